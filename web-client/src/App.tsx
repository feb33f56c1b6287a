// The dashboard shell: login state, session (client, viewer, projects), navigation.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Provider } from '@urql/preact';
import { createApi, type Api, type LiveState } from './lib/client';
import { adoptTokenFromLocation, clearToken, readToken, tokenHint, writeToken } from './lib/token';
import { describeError, isAuthFailure, type ErrorView } from './lib/errors';
import { applyTheme, readThemeChoice, THEME_KEY, type ThemeChoice } from './lib/theme';
import { href, parseRoute, useLocation, type Route } from './lib/router';
import { ProjectsQuery, ViewerQuery } from './api/operations';
import { SessionContext, useSession, type ProjectSummary, type Session, type Viewer } from './context';
import { LoginScreen, type LoginReason } from './views/Login';
import { ErrorBox, Loading } from './components/ui';
import { Overview } from './views/Overview';
import { IntegrationsList } from './views/Integrations';
import { IntegrationDetail } from './views/IntegrationDetail';
import { IntegrationCreate } from './views/IntegrationForm';
import { lazyView } from './components/Lazy';

// Screens opened now and then load on first use.
const IntegrationWizard = lazyView(() => import('./views/IntegrationWizard').then((m) => m.IntegrationWizard));
const TemplatesPage = lazyView(() => import('./views/Templates').then((m) => m.TemplatesPage));
const TemplateDetail = lazyView(() => import('./views/Templates').then((m) => m.TemplateDetail));
const TemplateEditor = lazyView(() => import('./views/Templates').then((m) => m.TemplateEditor));
import { WebhooksList } from './views/Webhooks';
import { WebhookCreate } from './views/WebhookCreate';
import { WebhookDetail } from './views/WebhookDetail';
import { Settings } from './views/Settings';
import { AlertsPage } from './views/Alerts';

const PROJECT_KEY = 'patchbay.project';

export function App() {
  const [token, setToken] = useState<string | null>(() => adoptTokenFromLocation(location, history, localStorage));
  const [reason, setReason] = useState<LoginReason>('none');
  const [theme, setTheme] = useState<ThemeChoice>(() => readThemeChoice(localStorage));

  useEffect(() => {
    applyTheme(theme);
    try {
      if (theme === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, theme);
    } catch {
      /* private mode */
    }
  }, [theme]);

  // A login URL opened in another tab, or a logout in GraphiQL, reaches this tab too.
  useEffect(() => {
    const onStorage = () => setToken(readToken(localStorage));
    const onHash = () => setToken(adoptTokenFromLocation(location, history, localStorage));
    window.addEventListener('storage', onStorage);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('storage', onStorage);
      window.removeEventListener('hashchange', onHash);
    };
  }, []);

  const refused = useCallback(() => {
    clearToken(localStorage);
    setReason('refused');
    setToken(null);
  }, []);
  const logout = useCallback(() => {
    clearToken(localStorage);
    setReason('logged-out');
    setToken(null);
  }, []);
  const login = useCallback((t: string) => {
    writeToken(localStorage, t);
    setReason('none');
    setToken(t);
  }, []);

  if (!token) {
    return (
      <>
        <SkipLink />
        <LoginScreen reason={reason} onToken={login} />
      </>
    );
  }
  return <SessionRoot key={token} token={token} onRefused={refused} onLogout={logout} theme={theme} setTheme={setTheme} />;
}

function SkipLink() {
  return <a class="skip" href="#main" data-native>Skip to content</a>;
}

function SessionRoot({ token, onRefused, onLogout, theme, setTheme }: {
  token: string; onRefused(): void; onLogout(): void; theme: ThemeChoice; setTheme(t: ThemeChoice): void;
}) {
  const [liveState, setLiveState] = useState<LiveState>('connecting');
  const api: Api = useMemo(() => createApi({ token, onAuthFailure: () => onRefused(), onLiveState: setLiveState }), [token]);
  useEffect(() => () => api.dispose(), [api]);

  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [projects, setProjects] = useState<ProjectSummary[] | null>(null);
  const [problem, setProblem] = useState<ErrorView | null>(null);
  const [projectId, setProjectIdState] = useState<string | null>(() => localStorage.getItem(PROJECT_KEY));
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    let stop = false;
    (async () => {
      const v = await api.client.query(ViewerQuery, {}, { requestPolicy: 'network-only' }).toPromise();
      if (stop) return;
      if (v.error) {
        if (!isAuthFailure(v.error)) setProblem(describeError(v.error));
        return;
      }
      setViewer(v.data!.viewer);
      const all: ProjectSummary[] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const p = await api.client.query(ProjectsQuery, { first: 200, after }, { requestPolicy: 'network-only' }).toPromise();
        if (stop) return;
        if (p.error) {
          setProblem(describeError(p.error));
          return;
        }
        all.push(...p.data!.projects.edges.map((e) => e.node));
        if (!p.data!.projects.pageInfo.hasNextPage) break;
        after = p.data!.projects.pageInfo.endCursor ?? null;
      }
      setProjects(all);
    })();
    return () => {
      stop = true;
    };
  }, [api, reloads]);

  const setProjectId = useCallback((id: string | null) => {
    if (id) localStorage.setItem(PROJECT_KEY, id);
    else localStorage.removeItem(PROJECT_KEY);
    setProjectIdState(id);
  }, []);

  // A scoped token sees one project; a remembered project that is gone falls back to all.
  const effectiveProject = projects && projectId && projects.some((p) => p.id === projectId) ? projectId : null;

  if (problem) {
    return (
      <main class="login" id="main">
        <div class="login-box">
          <h1>patchbay</h1>
          <ErrorBox view={problem} />
          <div class="row">
            <button type="button" onClick={() => { setProblem(null); setReloads((n) => n + 1); }}>Try again</button>
            <button type="button" onClick={onLogout}>Log out</button>
          </div>
        </div>
      </main>
    );
  }
  if (!viewer || !projects) return <main id="main" class="login"><Loading label="Connecting to patchbay…" /></main>;

  const session: Session = {
    client: api.client,
    token,
    viewer,
    projects,
    projectId: effectiveProject,
    setProjectId,
    reloadProjects: () => setReloads((n) => n + 1),
    liveState,
    logout: onLogout,
    canEdit: viewer.role !== 'VIEWER',
    isAdmin: viewer.role === 'ADMIN',
  };
  return (
    <Provider value={api.client}>
      <SessionContext.Provider value={session}>
        <Shell theme={theme} setTheme={setTheme} />
      </SessionContext.Provider>
    </Provider>
  );
}

const NAV: { route: Route; label: string; match: Route['name'][] }[] = [
  { route: { name: 'overview' }, label: 'Overview', match: ['overview'] },
  { route: { name: 'integrations' }, label: 'Integrations', match: ['integrations', 'integration', 'integration-new', 'integration-new-custom'] },
  { route: { name: 'templates' }, label: 'Templates', match: ['templates', 'template', 'template-new', 'template-edit'] },
  { route: { name: 'webhooks' }, label: 'Webhooks', match: ['webhooks', 'webhook', 'webhook-new'] },
  { route: { name: 'alerts', tab: 'firing' }, label: 'Alerts', match: ['alerts'] },
  { route: { name: 'settings' }, label: 'Settings', match: ['settings'] },
];

function Shell({ theme, setTheme }: { theme: ThemeChoice; setTheme(t: ThemeChoice): void }) {
  const session = useSession();
  const loc = useLocation();
  const route = parseRoute(loc.pathname);
  useEffect(() => {
    const titles: Partial<Record<Route['name'], string>> = {
      overview: 'Overview', integrations: 'Integrations', integration: 'Integration', 'integration-new': 'New integration', 'integration-new-custom': 'New integration',
      templates: 'Templates', template: 'Template', 'template-new': 'New template', 'template-edit': 'Edit template',
      webhooks: 'Webhooks', webhook: 'Webhook', 'webhook-new': 'New webhook', alerts: 'Alerts', settings: 'Settings', 'not-found': 'Not found',
    };
    document.title = `${titles[route.name] ?? ''} · patchbay`;
  }, [route.name]);
  return (
    <>
      <SkipLink />
      <header class="topbar">
        <a class="brand" href="/">patchbay</a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.label}>
                <a href={href(n.route)} aria-current={n.match.includes(route.name) ? 'page' : undefined}>{n.label}</a>
              </li>
            ))}
            <li><a href="/graphiql.html" data-native>GraphiQL</a></li>
          </ul>
        </nav>
        <div class="topbar-right">
          <ProjectSwitcher />
          <span class={`live live-${session.liveState}`} title="Live updates (WebSocket)">
            <span class="dot" aria-hidden="true" />
            {session.liveState === 'connected' ? 'Live' : session.liveState === 'connecting' ? 'Connecting' : 'Idle'}
          </span>
          <label class="sr-only" for="theme-select">Theme</label>
          <select id="theme-select" value={theme} onChange={(e) => setTheme(e.currentTarget.value as ThemeChoice)}>
            <option value="system">System theme</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
          <span class="who" title={`Token ${tokenHint(session.token)}`}>
            {session.viewer.name} <span class="badge tone-info">{session.viewer.role}</span>
          </span>
          <button type="button" onClick={session.logout}>Log out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <RouteView route={route} search={loc.search} />
      </main>
    </>
  );
}


function ProjectSwitcher() {
  const { projects, projectId, setProjectId, viewer } = useSession();
  if (viewer.project) {
    return <span class="project-fixed" title="This token is limited to one project">Project: <strong>{viewer.project.name}</strong></span>;
  }
  return (
    <>
      <label class="sr-only" for="project-select">Project</label>
      <select id="project-select" value={projectId ?? ''} onChange={(e) => setProjectId(e.currentTarget.value || null)}>
        <option value="">All projects ({projects.length})</option>
        {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
      </select>
    </>
  );
}

function RouteView({ route, search }: { route: Route; search: string }) {
  switch (route.name) {
    case 'overview':
      return <Overview />;
    case 'integrations':
      return <IntegrationsList search={search} />;
    case 'integration-new':
      return <IntegrationWizard search={search} />;
    case 'integration-new-custom':
      return <IntegrationCreate />;
    case 'templates':
      return <TemplatesPage />;
    case 'template':
      return <TemplateDetail key={route.id} id={route.id} />;
    case 'template-new':
      return <TemplateEditor id={null} />;
    case 'template-edit':
      return <TemplateEditor key={route.id} id={route.id} />;
    case 'integration':
      return <IntegrationDetail key={route.id} id={route.id} tab={route.tab} />;
    case 'webhooks':
      return <WebhooksList />;
    case 'webhook-new':
      return <WebhookCreate />;
    case 'webhook':
      return <WebhookDetail key={route.id} id={route.id} />;
    case 'alerts':
      return <AlertsPage tab={route.tab} />;
    case 'settings':
      return <Settings />;
    case 'not-found':
      return (
        <section>
          <h1>Not found</h1>
          <p>Nothing lives at <code>{route.path}</code>. <a href="/">Back to the overview</a>.</p>
        </section>
      );
  }
}
