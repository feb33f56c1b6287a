// API explorer: runs `executeRequest` through the integration and shows status, headers, body.
import { useEffect, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { BatchExecuteMutation, ExecuteRequestMutation, ExecutionsSubscription } from '../api/operations';
import type { HttpMethod, IntegrationQuery } from '../gql/graphql';
import { useSession } from '../context';
import { ErrorBox, Field, ProgressBar } from '../components/ui';
import { parseBatchLines, parseJsonObject, parseOptionalInt, type BatchCall } from '../lib/forms';
import { batchProgress } from '../lib/progress';
import { formatBytes, formatMs, humanizeEnum, prettyJson, statusTone } from '../lib/format';

const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

export function ApiExplorer({ integration }: { integration: NonNullable<IntegrationQuery['integration']> }) {
  const [method, setMethod] = useState<HttpMethod>('GET');
  const [path, setPath] = useState('/');
  const [query, setQuery] = useState('');
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState('');
  const [timeout, setTimeoutMs] = useState('');
  const [noCache, setNoCache] = useState(false);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [state, execute] = useMutation(ExecuteRequestMutation);
  const r = state.data?.executeRequest;

  const run = (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    const q = parseJsonObject(query, 'Query parameters');
    const h = parseJsonObject(headers, 'Headers');
    const t = parseOptionalInt(timeout, 100, 300_000, 'Timeout');
    let jsonBody: unknown = undefined;
    let textBody: string | undefined;
    if (body.trim()) {
      try {
        jsonBody = JSON.parse(body);
      } catch {
        textBody = body;
      }
    }
    if (q.error) errs.query = q.error;
    if (h.error) errs.headers = h.error;
    if (t.error) errs.timeout = t.error;
    if (!path.trim()) errs.path = 'A path is required';
    setProblems(errs);
    if (Object.keys(errs).length) return;
    void execute({
      input: {
        integrationId: integration.id,
        method,
        path: path.trim(),
        query: q.value ?? null,
        headers: h.value ?? null,
        body: jsonBody === undefined ? null : jsonBody,
        bodyText: textBody ?? null,
        timeoutMs: t.value ?? null,
        cache: noCache ? false : null,
      },
    });
  };

  return (
    <div class="grid-2">
      <form class="form panel" onSubmit={run} aria-label="Request">
        <h2>Request</h2>
        <p class="muted">Sent through <code>{integration.baseUrl ?? '(no base URL)'}</code> with the stored credentials, retries and rate limit.</p>
        <div class="row">
          <div class="field">
            <label for="x-method">Method</label>
            <select id="x-method" value={method} onChange={(e) => setMethod(e.currentTarget.value as HttpMethod)}>
              {METHODS.map((m) => <option key={m}>{m}</option>)}
            </select>
          </div>
          <div class="field grow">
            <label for="x-path">Path</label>
            <input id="x-path" value={path} onInput={(e) => setPath(e.currentTarget.value)} class="mono" />
            {problems.path ? <div class="field-error" role="alert">{problems.path}</div> : null}
          </div>
        </div>
        <Field id="x-query" label="Query parameters (JSON object)" error={problems.query}>
          <textarea id="x-query" rows={2} class="mono" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder={'{ "maxResults": 10 }'} />
        </Field>
        <Field id="x-headers" label="Headers (JSON object; credentials come from the vault)" error={problems.headers}>
          <textarea id="x-headers" rows={2} class="mono" value={headers} onInput={(e) => setHeaders(e.currentTarget.value)} />
        </Field>
        <Field id="x-body" label="Body (JSON, or text)">
          <textarea id="x-body" rows={4} class="mono" value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </Field>
        <div class="row">
          <Field id="x-timeout" label="Timeout (ms)" error={problems.timeout}>
            <input id="x-timeout" inputMode="numeric" value={timeout} onInput={(e) => setTimeoutMs(e.currentTarget.value)} />
          </Field>
          <div class="field checkbox-field">
            <input id="x-nocache" type="checkbox" checked={noCache} onChange={(e) => setNoCache(e.currentTarget.checked)} />
            <label for="x-nocache">Bypass the response cache</label>
          </div>
        </div>
        <button class="primary" type="submit" disabled={state.fetching}>{state.fetching ? 'Sending…' : 'Send request'}</button>
      </form>
      <section class="panel" aria-labelledby="x-response" aria-live="polite">
        <h2 id="x-response">Response</h2>
        <ErrorBox error={state.error} />
        {r ? (
          <div data-testid="explorer-response">
            <p>
              <span class={`badge tone-${r.ok ? 'ok' : statusTone(r.status)}`}>{r.status}</span>{' '}
              {formatMs(r.execution.latencyMs)} · {formatBytes(r.execution.bytes)} · {r.execution.retries} retries
              {r.cached ? ' · cached' : ''}{r.truncated ? ' · truncated' : ''}
            </p>
            {r.error ? (
              <div class="error-box">
                <strong>{humanizeEnum(r.error.errorClass ?? r.error.code)}</strong>: {r.error.message}
                {r.error.recoveryAction ? <div class="muted">Next: {humanizeEnum(r.error.recoveryAction)}</div> : null}
              </div>
            ) : null}
            <details open>
              <summary>Headers</summary>
              <table class="table compact">
                <tbody>
                  {Object.entries((r.headers ?? {}) as Record<string, unknown>).map(([k, v]) => (
                    <tr key={k}><th scope="row"><code>{k}</code></th><td><code>{String(v)}</code></td></tr>
                  ))}
                </tbody>
              </table>
            </details>
            <h3>Body</h3>
            <pre class="code" tabIndex={0}>{r.body !== null && r.body !== undefined ? prettyJson(r.body) : r.bodyText ?? '(empty)'}</pre>
          </div>
        ) : !state.error ? (
          <p class="muted">Send a request to see the answer.</p>
        ) : null}
      </section>
    </div>
  );
}

/**
 * Batch: many calls at once (`batchExecute`, bounded concurrency; one failure does not fail
 * the batch). While it runs, batch calls through this integration finishing (the `executions`
 * subscription, operation BATCH_EXECUTE) move the progress bar; the answer then gives each
 * call's outcome.
 */
export function BatchPanel({ integration }: { integration: NonNullable<IntegrationQuery['integration']> }) {
  const { client } = useSession();
  const [text, setText] = useState('GET /\nGET /items');
  const [concurrency, setConcurrency] = useState('4');
  const [problems, setProblems] = useState<string[]>([]);
  const [calls, setCalls] = useState<BatchCall[]>([]);
  const [seen, setSeen] = useState(0);
  const [state, run] = useMutation(BatchExecuteMutation);
  const answer = state.data?.batchExecute ?? null;
  const running = state.fetching;
  useEffect(() => {
    if (!running) return;
    setSeen(0);
    const { unsubscribe } = client.subscription(ExecutionsSubscription, { integrationId: integration.id }).subscribe((r) => {
      // Calls made by a batch carry operation BATCH_EXECUTE (nothing ties one to its batch).
      if (r.data?.executions.operation === 'BATCH_EXECUTE') setSeen((n) => n + 1);
    });
    return unsubscribe;
  }, [client, integration.id, running]);
  const submit = (e: Event) => {
    e.preventDefault();
    const parsed = parseBatchLines(text);
    const c = parseOptionalInt(concurrency, 1, 64, 'Concurrency');
    const errs = [...parsed.errors, ...(c.error ? [c.error] : [])];
    setProblems(errs);
    if (errs.length) return;
    setCalls(parsed.calls);
    void run({
      input: {
        concurrency: c.value ?? null,
        items: parsed.calls.map((call) => ({ integrationId: integration.id, method: call.method, path: call.path, body: call.body ?? null })),
      },
    });
  };
  const progress = calls.length && (running || answer) ? batchProgress(calls.length, seen, answer) : null;
  return (
    <section class="panel spaced" aria-labelledby="batch-title">
      <h2 id="batch-title">Batch</h2>
      <form class="form" onSubmit={submit} noValidate aria-label="Batch of calls">
        <div class="grid-2 tight">
          <Field id="b-calls" label="Calls, one a line" hint='METHOD /path, then an optional JSON body: POST /items {"title": "x"}. Lines starting with # are skipped. At most 500.' error={problems.length ? problems.join(' · ') : null}>
            <textarea id="b-calls" class="mono" rows={5} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} />
          </Field>
          <div>
            <Field id="b-concurrency" label="Concurrency" hint="Calls in flight at once, 1-64.">
              <input id="b-concurrency" inputMode="numeric" value={concurrency} onInput={(e) => setConcurrency(e.currentTarget.value)} />
            </Field>
            <button class="primary" type="submit" disabled={running}>{running ? 'Running…' : 'Run batch'}</button>
          </div>
        </div>
      </form>
      <ErrorBox error={state.error} />
      {progress ? (
        <div aria-live="polite">
          <ProgressBar id="batch-progress" testId="batch-progress" value={progress.value} max={progress.max} label={progress.label} />
        </div>
      ) : null}
      {answer ? (
        <table class="table compact" data-testid="batch-results">
          <thead><tr><th>#</th><th>Call</th><th>Outcome</th><th>Latency</th><th>Detail</th></tr></thead>
          <tbody>
            {answer.results.map((item) => {
              const call = calls[item.index];
              const status = item.result?.status;
              return (
                <tr key={item.index}>
                  <td>{item.index + 1}</td>
                  <td><code>{call ? `${call.method} ${call.path}` : '?'}</code></td>
                  <td>
                    {status !== undefined ? <span class={`badge tone-${item.ok ? 'ok' : statusTone(status)}`}>{status}</span> : null}{' '}
                    <span class={item.ok ? 'ok-text' : 'bad-text'}>{item.ok ? 'ok' : 'failed'}</span>
                  </td>
                  <td>{formatMs(item.result?.execution.latencyMs)}</td>
                  <td>{item.error ? <>{humanizeEnum(item.error.errorClass ?? item.error.code)}: {item.error.message}</> : item.result?.error ? item.result.error.message : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
