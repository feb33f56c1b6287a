// Log-in screens: no token yet, or the server refused the stored one.
import { useState } from 'preact/hooks';
import { checkToken } from '../lib/client';
import { normalizePastedToken } from '../lib/token';

export type LoginReason = 'none' | 'refused' | 'logged-out';

export function LoginScreen({ reason, onToken }: { reason: LoginReason; onToken(token: string): void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const token = normalizePastedToken(text);
    if (!token) {
      setProblem('Paste an API token (pbk_…) or the whole login URL.');
      return;
    }
    setBusy(true);
    setProblem(null);
    const verdict = await checkToken(token);
    setBusy(false);
    if (verdict === 'ok') onToken(token);
    else if (verdict === 'refused') setProblem('The server refused this token: it is unknown or was revoked.');
    else setProblem('The server could not be reached. Is patchbay running?');
  };
  return (
    <main class="login" id="main">
      <div class="login-box">
        <h1>patchbay</h1>
        {reason === 'refused' ? (
          <div class="error-box" role="alert" data-testid="token-refused">
            <strong>Your token was refused</strong>
            <div>
              The server answered <code>UNAUTHENTICATED</code>: the token stored in this browser is invalid or has been revoked.
              It has been removed. Log in again with a valid token.
            </div>
          </div>
        ) : reason === 'logged-out' ? (
          <p role="status">You are logged out.</p>
        ) : null}
        <p>
          Open the login URL patchbay printed at its first start (<code>http://HOST/#token=pbk_…</code>), or paste a token
          below. New tokens: <code>patchbay token create --role VIEWER</code>.
        </p>
        <form onSubmit={submit}>
          <label for="token-input">API token or login URL</label>
          <input
            id="token-input"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            aria-describedby={problem ? 'token-problem' : undefined}
            aria-invalid={problem ? true : undefined}
          />
          {problem ? <div id="token-problem" class="field-error" role="alert">{problem}</div> : null}
          <button class="primary" type="submit" disabled={busy}>{busy ? 'Checking…' : 'Log in'}</button>
        </form>
        <p class="muted">The token stays in this browser (local storage) and is shared with <a href="/graphiql.html" data-native>GraphiQL</a>.</p>
      </div>
    </main>
  );
}
