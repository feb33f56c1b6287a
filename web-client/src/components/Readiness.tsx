// Integration.readiness: a scored production-readiness checklist (CRITICAL checks must pass).
import type { IntegrationQuery } from '../gql/graphql';
import { Badge } from './ui';
import { humanizeEnum } from '../lib/format';

type Readiness = NonNullable<IntegrationQuery['integration']>['readiness'];

const SEVERITY_ORDER: Record<string, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };

/** Failed checks first (most severe first), then passed ones. */
export function orderChecks<T extends { passed: boolean; severity: string; name: string }>(checks: readonly T[]): T[] {
  return [...checks].sort(
    (a, b) => Number(a.passed) - Number(b.passed) || (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || a.name.localeCompare(b.name),
  );
}

export function ReadinessPanel({ readiness }: { readiness: Readiness }) {
  const failedCritical = readiness.checks.filter((c) => !c.passed && c.severity === 'CRITICAL').length;
  const tone = readiness.passed ? 'ok' : 'bad';
  return (
    <section class="panel" aria-labelledby="readiness-title" data-testid="readiness">
      <div class="panel-head">
        <h2 id="readiness-title">Production readiness</h2>
        <Badge value={readiness.passed ? 'READY' : 'NOT_READY'} tone={tone} label={readiness.passed ? 'Ready' : `Not ready: ${failedCritical} critical`} />
      </div>
      <div class="progress">
        <label for="readiness-score">Score {readiness.score} / 100 (checks weighted by severity)</label>
        <meter id="readiness-score" min={0} max={100} low={60} high={90} optimum={100} value={readiness.score}>{readiness.score}</meter>
      </div>
      <ul class="checklist">
        {orderChecks(readiness.checks).map((c) => (
          <li key={c.name} class={c.passed ? 'pass' : `fail sev-${c.severity.toLowerCase()}`} data-check={c.name}>
            <span class="check-mark" aria-hidden="true">{c.passed ? '✓' : '✗'}</span>
            <span class="sr-only">{c.passed ? 'Passed:' : 'Failed:'}</span>
            <strong>{humanizeEnum(c.name)}</strong>
            <Badge value={c.severity} tone={c.severity === 'CRITICAL' ? 'bad' : c.severity === 'WARNING' ? 'warn' : 'info'} label={humanizeEnum(c.severity)} />
            <span class="muted">{c.detail}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
