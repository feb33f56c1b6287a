// Fields of a HealthCheckInput, shared by the create form and the Health tab's editor.
import type { Comparison, HttpMethod } from '../gql/graphql';
import { Field } from '../components/ui';
import { COMPARISONS, type HealthCheckForm } from '../lib/healthCheckForm';
import { humanizeEnum } from '../lib/format';

const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

export function HealthCheckFields({ form, set, error, prefix }: {
  form: HealthCheckForm;
  set<K extends keyof HealthCheckForm>(key: K, value: HealthCheckForm[K]): void;
  error(key: string): string | null | undefined;
  prefix: string;
}) {
  const id = (k: string) => `${prefix}-${k}`;
  return (
    <>
      <div class="form-grid">
        <Field id={id('method')} label="Check method" error={error('method')}>
          <select id={id('method')} value={form.method} onChange={(e) => set('method', e.currentTarget.value as HttpMethod)}>
            {METHODS.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </Field>
        <Field id={id('path')} label="Check path" hint="Relative to the base URL, e.g. /health." error={error('path')}>
          <input id={id('path')} value={form.path} onInput={(e) => set('path', e.currentTarget.value)} />
        </Field>
        <Field id={id('status')} label="Passing statuses" hint="Comma-separated; empty: any 2xx." error={error('expectedStatus')}>
          <input id={id('status')} value={form.expectedStatus} onInput={(e) => set('expectedStatus', e.currentTarget.value)} placeholder="200, 204" />
        </Field>
        <Field id={id('interval')} label="Interval (s)" hint="At least 10; empty: 300." error={error('intervalSeconds')}>
          <input id={id('interval')} inputMode="numeric" value={form.intervalSeconds} onInput={(e) => set('intervalSeconds', e.currentTarget.value)} />
        </Field>
        <Field id={id('timeout')} label="Check timeout (ms)" hint="Empty: 3000." error={error('timeoutMs')}>
          <input id={id('timeout')} inputMode="numeric" value={form.timeoutMs} onInput={(e) => set('timeoutMs', e.currentTarget.value)} />
        </Field>
        <Field id={id('maxlat')} label="Max latency (ms)" hint="Slower passing answers: DEGRADED. Empty: no limit." error={error('maxLatencyMs')}>
          <input id={id('maxlat')} inputMode="numeric" value={form.maxLatencyMs} onInput={(e) => set('maxLatencyMs', e.currentTarget.value)} />
        </Field>
        <Field id={id('fail')} label="Failure threshold" hint="Failures in a row → UNHEALTHY. Empty: 3." error={error('failureThreshold')}>
          <input id={id('fail')} inputMode="numeric" value={form.failureThreshold} onInput={(e) => set('failureThreshold', e.currentTarget.value)} />
        </Field>
        <Field id={id('success')} label="Success threshold" hint="Successes in a row → HEALTHY again. Empty: 2." error={error('successThreshold')}>
          <input id={id('success')} inputMode="numeric" value={form.successThreshold} onInput={(e) => set('successThreshold', e.currentTarget.value)} />
        </Field>
      </div>
      <div class="form-grid">
        <Field id={id('pointer')} label="Body condition: JSON pointer" hint="Optional, e.g. /status." error={error('pointer')}>
          <input id={id('pointer')} value={form.pointer} onInput={(e) => set('pointer', e.currentTarget.value)} placeholder="/status" />
        </Field>
        <Field id={id('comparison')} label="Comparison" error={error('comparison')}>
          <select id={id('comparison')} value={form.comparison} onChange={(e) => set('comparison', e.currentTarget.value as Comparison)}>
            {COMPARISONS.map((c) => <option key={c} value={c}>{humanizeEnum(c)}</option>)}
          </select>
        </Field>
        <Field id={id('value')} label="Compared value" hint='JSON ("ok", true, 3) or plain text.' error={error('value')}>
          <input id={id('value')} value={form.value} onInput={(e) => set('value', e.currentTarget.value)} disabled={form.comparison === 'EXISTS'} />
        </Field>
      </div>
    </>
  );
}
