// A small history-API router: the server serves index.html for unknown non-asset paths.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'overview' }
  | { name: 'integrations' }
  | { name: 'integration-new' }
  | { name: 'integration-new-custom' }
  | { name: 'integration'; id: string; tab: string }
  | { name: 'webhooks' }
  | { name: 'webhook-new' }
  | { name: 'webhook'; id: string }
  | { name: 'alerts'; tab: string }
  | { name: 'templates' }
  | { name: 'template-new' }
  | { name: 'template'; id: string }
  | { name: 'template-edit'; id: string }
  | { name: 'settings' }
  | { name: 'not-found'; path: string };

export const INTEGRATION_TABS = ['overview', 'health', 'sync', 'executions', 'logs', 'explorer', 'credentials', 'edit'] as const;
export const ALERT_TABS = ['firing', 'acknowledged', 'resolved', 'rules'] as const;

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length === 0) return { name: 'overview' };
  const [head, id, tab] = parts;
  if (head === 'integrations') {
    if (!id) return { name: 'integrations' };
    if (id === 'new' && !tab) return { name: 'integration-new' };
    if (id === 'new' && tab === 'custom' && parts.length === 3) return { name: 'integration-new-custom' };
    if (parts.length <= 3 && (!tab || (INTEGRATION_TABS as readonly string[]).includes(tab))) {
      return { name: 'integration', id, tab: tab || 'overview' };
    }
  }
  if (head === 'webhooks') {
    if (!id) return { name: 'webhooks' };
    if (id === 'new' && parts.length === 2) return { name: 'webhook-new' };
    if (parts.length === 2) return { name: 'webhook', id };
  }
  if (head === 'alerts' && parts.length <= 2 && (!id || (ALERT_TABS as readonly string[]).includes(id))) {
    return { name: 'alerts', tab: id || 'firing' };
  }
  if (head === 'templates') {
    if (!id) return { name: 'templates' };
    if (id === 'new' && parts.length === 2) return { name: 'template-new' };
    if (parts.length === 2) return { name: 'template', id };
    if (parts.length === 3 && tab === 'edit') return { name: 'template-edit', id };
  }
  if (head === 'settings' && parts.length === 1) return { name: 'settings' };
  return { name: 'not-found', path: pathname };
}

export function href(route: Route): string {
  switch (route.name) {
    case 'overview':
      return '/';
    case 'integrations':
      return '/integrations';
    case 'integration-new':
      return '/integrations/new';
    case 'integration-new-custom':
      return '/integrations/new/custom';
    case 'integration':
      return `/integrations/${encodeURIComponent(route.id)}${route.tab && route.tab !== 'overview' ? '/' + route.tab : ''}`;
    case 'webhooks':
      return '/webhooks';
    case 'webhook-new':
      return '/webhooks/new';
    case 'webhook':
      return `/webhooks/${encodeURIComponent(route.id)}`;
    case 'alerts':
      return route.tab && route.tab !== 'firing' ? `/alerts/${route.tab}` : '/alerts';
    case 'templates':
      return '/templates';
    case 'template-new':
      return '/templates/new';
    case 'template':
      return `/templates/${encodeURIComponent(route.id)}`;
    case 'template-edit':
      return `/templates/${encodeURIComponent(route.id)}/edit`;
    case 'settings':
      return '/settings';
    case 'not-found':
      return route.path;
  }
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listeners.forEach((l) => l());
  window.scrollTo?.(0, 0);
}

/** Current pathname + search, re-rendering on navigation. */
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

/** Intercepts clicks on same-origin links (plain left clicks) so they route client-side. */
export function installLinkInterception(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download') || anchor.dataset.native !== undefined) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.endsWith('.html') || url.pathname.startsWith('/graphql')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
