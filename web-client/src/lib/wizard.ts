// The "new integration from a template" wizard's rules: its steps, how credentials are given
// for the chosen auth kind, and which step a server problem sends the user back to.
import type { TemplateAuthKind } from '../gql/graphql';
import type { Problem } from './schemaForm';

export const WIZARD_STEPS = ['template', 'settings', 'credentials', 'review'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

export const STEP_LABELS: Record<WizardStep, string> = {
  template: 'Template',
  settings: 'Settings',
  credentials: 'Credentials',
  review: 'Test and save',
};

/**
 * How credentials are given for `kind`:
 * - `schema`: the template's credentialSchema form (the default kind), sent with the create;
 * - `oauth`: OAuth2 as the default kind: its credentialSchema (client id and secret) is sent
 *   with the create, then "Connect with OAuth" (startOAuth) sends the browser to the provider;
 * - `oauth-client`: OAuth2 beside another default: client id and secret are set after the
 *   create (setCredentials with the template's token URL), then startOAuth;
 * - `none`: the kind needs no credentials;
 * - `later`: another kind the template supports: set on the Credentials tab after saving.
 */
export type CredentialMode = 'schema' | 'oauth' | 'oauth-client' | 'none' | 'later';

export function credentialMode(authKinds: readonly TemplateAuthKind[], kind: TemplateAuthKind): CredentialMode {
  const isDefault = authKinds[0] === kind;
  if (kind === 'OAUTH2') return isDefault ? 'oauth' : 'oauth-client';
  if (kind === 'NONE') return 'none';
  return isDefault ? 'schema' : 'later';
}

/** OAuth2 connects after the integration exists: the test before saving cannot pass yet. */
export function canTestBeforeSave(mode: CredentialMode): boolean {
  return mode !== 'oauth' && mode !== 'oauth-client';
}

/** The step where the first server problem can be fixed. */
export function stepForProblems(problems: Problem[]): WizardStep {
  const at = (prefix: string) => problems.some((p) => p.field === prefix || p.field.startsWith(prefix + '.') || p.field.startsWith(prefix + '['));
  if (at('input.config') || at('input.name') || at('input.description') || at('input.tags') || at('input.projectId')) return 'settings';
  if (at('input.credentials')) return 'credentials';
  if (at('input.templateId')) return 'template';
  return 'review';
}

/** `{{config.key}}` placeholders of a template URL filled from a config. */
export function renderWithConfig(pattern: string, config: Record<string, unknown>): string {
  return pattern.replace(/\{\{\s*config\.([A-Za-z0-9_$-]+)\s*\}\}/g, (_m, key: string) => {
    const v = config[key];
    return v === undefined || v === null ? '' : String(v);
  });
}

/** Where the provider sends the browser back after OAuth: this integration's page. */
export function oauthReturnUrl(origin: string, integrationId: string): string {
  return `${origin.replace(/\/$/, '')}/integrations/${encodeURIComponent(integrationId)}`;
}

/** `?oauth=connected` or `?oauth=error&reason=…` on the return URL. */
export function oauthOutcome(search: string): { ok: boolean; reason: string | null } | null {
  const params = new URLSearchParams(search);
  const state = params.get('oauth');
  if (state === 'connected') return { ok: true, reason: null };
  if (state === 'error') return { ok: false, reason: params.get('reason') };
  return null;
}
