// Settings: who is logged in, and key rotation (ADMIN) with progress.
import { useEffect, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { KeyRotationQuery, RotateEncryptionKeyMutation } from '../api/operations';
import type { KeyRotationQuery as KeyRotationData } from '../gql/graphql';
import { useSession } from '../context';
import { ConfirmDialog, ErrorBox } from '../components/ui';
import { describeError, type ErrorView } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { tokenHint } from '../lib/token';

type Rotation = NonNullable<KeyRotationData['keyRotation']>;

export function Settings() {
  const { viewer, token, isAdmin, logout } = useSession();
  return (
    <>
      <div class="page-head"><h1>Settings</h1></div>
      <section class="panel" aria-labelledby="me-title">
        <h2 id="me-title">Session</h2>
        <dl class="props">
          <dt>Token name</dt><dd>{viewer.name}</dd>
          <dt>Role</dt><dd>{viewer.role}</dd>
          <dt>Token</dt><dd><code>{tokenHint(token)}</code> {viewer.tokenId ? <code class="muted">{viewer.tokenId}</code> : null}</dd>
          <dt>Scope</dt><dd>{viewer.project ? `project ${viewer.project.name}` : 'all projects'}</dd>
        </dl>
        <button type="button" onClick={logout}>Log out</button>
      </section>
      {isAdmin ? <KeyRotationPanel /> : (
        <section class="panel"><h2>Encryption key rotation</h2><p class="muted">Needs an ADMIN token.</p></section>
      )}
    </>
  );
}

function KeyRotationPanel() {
  const { client } = useSession();
  const [confirm, setConfirm] = useState(false);
  const [state, start] = useMutation(RotateEncryptionKeyMutation);
  const [rotation, setRotation] = useState<Rotation | null>(null);
  const [pollError, setPollError] = useState<ErrorView | null>(null);

  // Follow a running rotation with keyRotation(id) until it is DONE.
  useEffect(() => {
    if (!rotation || rotation.state === 'DONE') return;
    const t = setTimeout(async () => {
      const r = await client.query(KeyRotationQuery, { id: rotation.id }, { requestPolicy: 'network-only' }).toPromise();
      if (r.error) setPollError(describeError(r.error));
      else if (r.data?.keyRotation) setRotation(r.data.keyRotation);
    }, 700);
    return () => clearTimeout(t);
  }, [client, rotation]);

  const pct = rotation ? (rotation.total ? Math.round((rotation.done / rotation.total) * 100) : 100) : 0;
  return (
    <section class="panel" aria-labelledby="rot-title">
      <h2 id="rot-title">Encryption key rotation</h2>
      <p>
        Re-wraps every credential's data key under a new key-encryption key, online and resumably. Credentials stay usable
        throughout. A rotation already running is resumed instead of starting another.
      </p>
      <button type="button" class="primary" onClick={() => setConfirm(true)} disabled={state.fetching || (rotation?.state === 'RUNNING')}>
        Rotate encryption key…
      </button>
      <ConfirmDialog open={confirm} title="Rotate the encryption key?" confirmLabel="Start rotation" busy={state.fetching}
        onCancel={() => setConfirm(false)}
        onConfirm={async () => {
          const r = await start({});
          if (r.data) { setRotation(r.data.rotateEncryptionKey); setConfirm(false); }
        }}>
        <p>A new key-encryption key is created and every data key is re-wrapped under it in the background.</p>
        <ErrorBox error={state.error} />
      </ConfirmDialog>
      <ErrorBox error={state.error} />
      <ErrorBox view={pollError} />
      {rotation ? (
        <div class="rotation" data-testid="rotation">
          <label for="rot-progress">
            {rotation.state === 'DONE' ? 'Done' : 'Re-wrapping'}: {rotation.done} of {rotation.total} data keys under <code>{rotation.targetKeyId}</code>
          </label>
          <progress id="rot-progress" max={Math.max(rotation.total, 1)} value={rotation.total ? rotation.done : 1}>{pct} %</progress>
          <p class="muted">Started {formatDateTime(rotation.startedAt)}{rotation.finishedAt ? ` · finished ${formatDateTime(rotation.finishedAt)}` : ''}</p>
        </div>
      ) : null}
    </section>
  );
}
