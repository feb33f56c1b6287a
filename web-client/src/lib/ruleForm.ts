// The alert-rule form: text fields → Create/UpdateAlertRuleInput, with validation.
import type { AlertRuleKind, Severity } from '../gql/graphql';
import { THRESHOLD_UNITS } from './alerts';
import { parseOptionalInt } from './forms';

export interface RuleForm {
  projectId: string;
  integrationId: string;
  name: string;
  kind: AlertRuleKind;
  threshold: string;
  windowSeconds: string;
  breaches: string;
  evaluations: string;
  severity: Severity | '';
  reminderSeconds: string;
  enabled: boolean;
}

export interface RuleLike {
  name: string;
  kind: AlertRuleKind;
  threshold?: number | null;
  windowSeconds: number;
  breaches: number;
  evaluations: number;
  severity: Severity;
  reminderSeconds?: number | null;
  enabled: boolean;
  project?: { id: string } | null;
  integration?: { id: string } | null;
}

export function ruleFormFrom(rule: RuleLike | null, projectId: string): RuleForm {
  return {
    projectId: rule?.project?.id ?? projectId,
    integrationId: rule?.integration?.id ?? '',
    name: rule?.name ?? '',
    kind: rule?.kind ?? 'HEALTH_TRANSITION',
    threshold: rule?.threshold != null ? String(rule.threshold) : '',
    windowSeconds: rule ? String(rule.windowSeconds) : '',
    breaches: rule ? String(rule.breaches) : '',
    evaluations: rule ? String(rule.evaluations) : '',
    severity: rule?.severity ?? '',
    reminderSeconds: rule?.reminderSeconds != null ? String(rule.reminderSeconds) : '',
    enabled: rule?.enabled ?? true,
  };
}

export function kindTakesThreshold(kind: string): boolean {
  return kind in THRESHOLD_UNITS;
}

export interface ParsedRule {
  name: string;
  threshold?: number | null;
  windowSeconds?: number;
  breaches?: number;
  evaluations?: number;
  severity?: Severity;
  reminderSeconds?: number | null;
  enabled: boolean;
}

/** Validates the form; empty optional fields are left out (server defaults) — or, when editing, cleared. */
export function parseRuleForm(form: RuleForm, editing: boolean): { value?: ParsedRule; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (!name) errors.name = 'A name is required';
  if (!editing && !form.projectId) errors.projectId = 'Pick a project';
  let threshold: number | null | undefined;
  if (kindTakesThreshold(form.kind) && form.threshold.trim()) {
    const n = Number(form.threshold.trim());
    if (!Number.isFinite(n) || n < 0) errors.threshold = 'The threshold is a number, 0 or more';
    else if (THRESHOLD_UNITS[form.kind] === '%' && n > 100) errors.threshold = 'A percentage is at most 100';
    else threshold = n;
  }
  const windowSeconds = parseOptionalInt(form.windowSeconds, 60, 86_400, 'The window');
  if (windowSeconds.error) errors.windowSeconds = windowSeconds.error;
  const breaches = parseOptionalInt(form.breaches, 1, 100, 'Breaches (m)');
  if (breaches.error) errors.breaches = breaches.error;
  const evaluations = parseOptionalInt(form.evaluations, 1, 100, 'Evaluations (n)');
  if (evaluations.error) errors.evaluations = evaluations.error;
  if (!errors.breaches && !errors.evaluations && breaches.value !== undefined && evaluations.value !== undefined && breaches.value > evaluations.value) {
    errors.breaches = 'm cannot exceed n';
  }
  const reminder = parseOptionalInt(form.reminderSeconds, 10, 604_800, 'The reminder interval');
  if (reminder.error) errors.reminderSeconds = reminder.error;
  if (Object.keys(errors).length) return { errors };
  const value: ParsedRule = { name, enabled: form.enabled };
  if (threshold !== undefined) value.threshold = threshold;
  if (windowSeconds.value !== undefined) value.windowSeconds = windowSeconds.value;
  if (breaches.value !== undefined) value.breaches = breaches.value;
  if (evaluations.value !== undefined) value.evaluations = evaluations.value;
  if (form.severity) value.severity = form.severity;
  if (reminder.value !== undefined) value.reminderSeconds = reminder.value;
  else if (editing) value.reminderSeconds = null;
  return { value, errors };
}

/** `input.windowSeconds` → `windowSeconds`. */
export function ruleFieldOf(serverField: string | null | undefined): string | null {
  if (!serverField) return null;
  return serverField.replace(/^input\./, '').split('.')[0];
}
