// Alerts: firing / acknowledged / resolved (live from the `alerts` subscription) and the
// alert-rule editor.
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import {
  AlertRulesQuery, CreateAlertRuleMutation, DeleteAlertRuleMutation, ProjectIntegrationNamesQuery, UpdateAlertRuleMutation,
} from '../api/operations';
import type { AlertRuleKind, AlertRulesQuery as RulesData, Severity } from '../gql/graphql';
import { useSession } from '../context';
import { Badge, ConfirmDialog, Empty, ErrorBox, Field, Loading } from '../components/ui';
import { AlertList } from '../components/health';
import { alertsInState, formatMofN, RULE_KINDS, SEVERITIES, severityTone, THRESHOLD_UNITS, type AlertStateName } from '../lib/alerts';
import { useAlertFeed } from '../lib/useAlerts';
import { formatSeconds } from '../lib/health';
import { describeError, errorField } from '../lib/errors';
import { formatNumber, humanizeEnum } from '../lib/format';
import { ALERT_TABS, href } from '../lib/router';
import { kindTakesThreshold, parseRuleForm, ruleFieldOf, ruleFormFrom, type RuleForm } from '../lib/ruleForm';

const TAB_STATE: Record<string, AlertStateName> = { firing: 'FIRING', acknowledged: 'ACKNOWLEDGED', resolved: 'RESOLVED' };
const TAB_LABELS: Record<string, string> = { firing: 'Firing', acknowledged: 'Acknowledged', resolved: 'Resolved', rules: 'Rules' };
const KIND_HINTS: Record<string, string> = {
  HEALTH_TRANSITION: 'Fires when an integration becomes UNHEALTHY; resolves when it is HEALTHY again.',
  LATENCY_P95: 'Fires when p95 latency over the window exceeds the threshold (ms, default 5000).',
  ERROR_RATE: 'Fires when failed checks and calls exceed the threshold (%, default 5).',
  SUCCESS_RATE: 'Fires when successful checks and calls fall under the threshold (%, default 95).',
  CIRCUIT_OPEN: 'Fires when the circuit breaker opens; resolves when it closes.',
  WEBHOOK_DISABLED: 'Fires when a webhook endpoint is disabled after sustained failure.',
};

export function AlertsPage({ tab }: { tab: string }) {
  const { projects, projectId } = useSession();
  const project = projects.find((p) => p.id === projectId);
  const feed = useAlertFeed({ resolvedKeep: 200, withCounts: true });
  const state = TAB_STATE[tab];
  return (
    <>
      <div class="page-head">
        <h1>Alerts{project ? `: ${project.name}` : ''}</h1>
        <p class="muted">Live: new, acknowledged and resolved alerts appear without a reload.</p>
      </div>
      <nav class="tabs" aria-label="Alert lists">
        {ALERT_TABS.map((t) => (
          <a key={t} href={href({ name: 'alerts', tab: t })} aria-current={tab === t ? 'page' : undefined}>
            {TAB_LABELS[t]}
            {TAB_STATE[t] && feed.counts ? <span class={`badge tab-count tone-${t === 'firing' && feed.counts.FIRING ? 'bad' : 'muted'}`}>{formatNumber(feed.counts[TAB_STATE[t]])}</span> : null}
          </a>
        ))}
      </nav>
      {state ? (
        <section aria-label={`${TAB_LABELS[tab]} alerts`}>
          <ErrorBox error={feed.error} />
          {feed.loading ? <Loading /> : (
            <AlertList alerts={alertsInState(feed.alerts, state)} feed={feed} empty={`No ${TAB_LABELS[tab].toLowerCase()} alerts.`} />
          )}
          {state === 'RESOLVED' && feed.counts && feed.counts.RESOLVED > 200 ? <p class="muted small">The newest 200 resolved alerts.</p> : null}
        </section>
      ) : (
        <RulesPanel />
      )}
    </>
  );
}

type Rule = RulesData['alertRules']['nodes'][number];

function RulesPanel() {
  const { projectId, canEdit } = useSession();
  const [result, refetch] = useQuery({ query: AlertRulesQuery, variables: { projectId, first: 100 } });
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [deleteState, remove] = useMutation(DeleteAlertRuleMutation);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const rules = result.data?.alertRules.nodes;
  return (
    <section aria-labelledby="rules-title">
      <div class="row space">
        <h2 id="rules-title">Alert rules</h2>
        {canEdit && editing === null ? <button type="button" class="primary" onClick={() => setEditing('new')}>New rule</button> : null}
      </div>
      {editing ? (
        <RuleEditor key={editing === 'new' ? 'new' : editing.id} rule={editing === 'new' ? null : editing}
          onDone={() => { setEditing(null); reload(); }} onCancel={() => setEditing(null)} />
      ) : null}
      <ErrorBox error={result.error} />
      {!rules ? <Loading /> : rules.length === 0 ? <Empty>No alert rules yet.</Empty> : (
        <table class="table" data-testid="rules">
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Watches</th><th scope="col">Threshold</th>
              <th scope="col">Window</th><th scope="col">m of n</th><th scope="col">Severity</th><th scope="col">Reminder</th>
              <th scope="col">Enabled</th>{canEdit ? <th scope="col"><span class="sr-only">Actions</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{humanizeEnum(r.kind)}</td>
                <td>{r.integration ? <a href={href({ name: 'integration', id: r.integration.id, tab: 'health' })}>{r.integration.name}</a> : `every integration${r.project ? ' of ' + r.project.name : ''}`}</td>
                <td>{r.threshold != null ? `${r.threshold} ${THRESHOLD_UNITS[r.kind] ?? ''}` : '—'}</td>
                <td>{formatSeconds(r.windowSeconds)}</td>
                <td>{formatMofN(r.breaches, r.evaluations)}</td>
                <td><Badge value={r.severity} tone={severityTone(r.severity)} /></td>
                <td>{r.reminderSeconds ? `every ${formatSeconds(r.reminderSeconds)}` : 'never'}</td>
                <td><Badge value={String(r.enabled)} label={r.enabled ? 'Enabled' : 'Disabled'} /></td>
                {canEdit ? (
                  <td class="row">
                    <button type="button" onClick={() => setEditing(r)} aria-label={`Edit rule ${r.name}`}>Edit</button>
                    <button type="button" class="danger" onClick={() => setDeleting(r)} aria-label={`Delete rule ${r.name}`}>Delete…</button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog open={deleting !== null} title={`Delete the rule “${deleting?.name ?? ''}”?`} confirmLabel="Delete rule" danger busy={deleteState.fetching}
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const r = await remove({ id: deleting.id });
          if (r.data) { setDeleting(null); reload(); }
        }}>
        <p>No new alerts come from this rule; its past alerts stay.</p>
        <ErrorBox error={deleteState.error} />
      </ConfirmDialog>
    </section>
  );
}

function RuleEditor({ rule, onDone, onCancel }: { rule: Rule | null; onDone(): void; onCancel(): void }) {
  const { projects, projectId, viewer } = useSession();
  const [form, setForm] = useState<RuleForm>(() => ruleFormFrom(rule, projectId ?? viewer.project?.id ?? projects[0]?.id ?? ''));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [createState, create] = useMutation(CreateAlertRuleMutation);
  const [updateState, update] = useMutation(UpdateAlertRuleMutation);
  const state = rule ? updateState : createState;
  const serverError = describeError(state.error ?? null);
  const field = ruleFieldOf(errorField(serverError));
  const [names] = useQuery({ query: ProjectIntegrationNamesQuery, variables: { projectId: form.projectId || null }, pause: !form.projectId || !!rule });
  const set = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const err = (k: string) => problems[k] ?? (field === k ? serverError?.message : null);
  const known = ['projectId', 'integrationId', 'name', 'kind', 'threshold', 'windowSeconds', 'breaches', 'evaluations', 'severity', 'reminderSeconds', 'enabled'];
  const unit = THRESHOLD_UNITS[form.kind];

  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseRuleForm(form, Boolean(rule));
    setProblems(parsed.errors);
    if (!parsed.value) return;
    if (rule) {
      const r = await update({ input: { id: rule.id, ...parsed.value } });
      if (r.data) onDone();
    } else {
      const r = await create({
        input: { projectId: form.projectId, integrationId: form.integrationId || null, kind: form.kind, ...parsed.value, threshold: parsed.value.threshold ?? null },
      });
      if (r.data) onDone();
    }
  };
  return (
    <form class="form panel" onSubmit={submit} noValidate aria-label={rule ? `Edit rule ${rule.name}` : 'New alert rule'}>
      <h3>{rule ? `Edit “${rule.name}”` : 'New alert rule'}</h3>
      {serverError && (!field || !known.includes(field)) ? <ErrorBox view={serverError} /> : null}
      <div class="form-grid">
        {!rule && !viewer.project ? (
          <Field id="r-project" label="Project" error={err('projectId')}>
            <select id="r-project" value={form.projectId} onChange={(e) => { set('projectId', e.currentTarget.value); set('integrationId', ''); }}>
              <option value="">Choose…</option>
              {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          </Field>
        ) : null}
        <Field id="r-integration" label="Integration" hint={rule ? 'Fixed once created.' : 'Empty: every integration of the project.'} error={err('integrationId')}>
          {rule ? (
            <input id="r-integration" value={rule.integration?.name ?? 'every integration'} disabled />
          ) : (
            <select id="r-integration" value={form.integrationId} onChange={(e) => set('integrationId', e.currentTarget.value)}>
              <option value="">Every integration</option>
              {(names.data?.integrations.nodes ?? []).map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
            </select>
          )}
        </Field>
        <Field id="r-name" label="Rule name" error={err('name')}>
          <input id="r-name" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} maxLength={100} />
        </Field>
        <Field id="r-kind" label="Kind" hint={KIND_HINTS[form.kind]} error={err('kind')}>
          <select id="r-kind" value={form.kind} disabled={Boolean(rule)} onChange={(e) => set('kind', e.currentTarget.value as AlertRuleKind)}>
            {RULE_KINDS.map((k) => <option key={k} value={k}>{humanizeEnum(k)}</option>)}
          </select>
        </Field>
        {kindTakesThreshold(form.kind) ? (
          <Field id="r-threshold" label={`Threshold (${unit})`} hint="Empty: the kind's default." error={err('threshold')}>
            <input id="r-threshold" inputMode="decimal" value={form.threshold} onInput={(e) => set('threshold', e.currentTarget.value)} />
          </Field>
        ) : null}
        <Field id="r-window" label="Window (s)" hint="60-86400; empty: 300." error={err('windowSeconds')}>
          <input id="r-window" inputMode="numeric" value={form.windowSeconds} onInput={(e) => set('windowSeconds', e.currentTarget.value)} />
        </Field>
        <Field id="r-breaches" label="Breaches (m of m-of-n)" hint="Fire when at least m of the last n evaluations breach. Empty: 1." error={err('breaches')}>
          <input id="r-breaches" inputMode="numeric" value={form.breaches} onInput={(e) => set('breaches', e.currentTarget.value)} />
        </Field>
        <Field id="r-evaluations" label="Evaluations (n of m-of-n)" hint="Empty: same as m." error={err('evaluations')}>
          <input id="r-evaluations" inputMode="numeric" value={form.evaluations} onInput={(e) => set('evaluations', e.currentTarget.value)} />
        </Field>
        <Field id="r-severity" label="Severity" error={err('severity')}>
          <select id="r-severity" value={form.severity} onChange={(e) => set('severity', e.currentTarget.value as Severity | '')}>
            {!rule ? <option value="">Default for the kind</option> : null}
            {SEVERITIES.map((s) => <option key={s} value={s}>{humanizeEnum(s)}</option>)}
          </select>
        </Field>
        <Field id="r-reminder" label="Reminder (s)" hint="Re-notify a firing, unacknowledged alert this often (10-604800). Empty: never." error={err('reminderSeconds')}>
          <input id="r-reminder" inputMode="numeric" value={form.reminderSeconds} onInput={(e) => set('reminderSeconds', e.currentTarget.value)} />
        </Field>
      </div>
      <div class="field checkbox-field">
        <input id="r-enabled" type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
        <label for="r-enabled">Enabled</label>
      </div>
      <div class="row">
        <button type="submit" class="primary" disabled={state.fetching}>{rule ? 'Save rule' : 'Create rule'}</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
