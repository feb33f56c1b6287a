// Views loaded on first use (their own chunk): the dashboard's first load carries only the
// screens a team keeps open (overview, lists, an integration's main tabs).
import { h, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading } from './ui';

export function lazyView<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function LazyView(props: P) {
    const [, setReady] = useState(false);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      pending ??= load();
      pending.then(
        (component) => { loaded = component; setReady(true); },
        () => { pending = null; setFailed(true); },
      );
    }, []);
    if (loaded) return h(loaded, props);
    if (failed) {
      return <ErrorBox view={{ kind: 'network', code: null, title: 'Cannot load this page', message: 'Its code did not arrive: the server may have been upgraded. Reload the page.' }} />;
    }
    return <Loading />;
  };
}
