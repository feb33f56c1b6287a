// Small shared pieces: error boxes, cards, badges, dialogs, copy buttons, pagination.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type CombinedErrorLike, type ErrorView } from '../lib/errors';
import { humanizeEnum } from '../lib/format';

export function ErrorBox({ error, view }: { error?: CombinedErrorLike | null; view?: ErrorView | null }) {
  const v = view ?? describeError(error ?? null);
  if (!v) return null;
  return (
    <div class="error-box" role="alert">
      <strong>{v.title}</strong>
      {v.code ? <code class="code-tag">{v.code}</code> : null}
      <div>{v.message}</div>
      {v.field ? <div class="muted">Field: <code>{v.field}</code></div> : null}
      {v.retryAfterSeconds !== undefined ? <div class="muted">Retry after {v.retryAfterSeconds} s</div> : null}
      {v.requestId ? <div class="muted">Request id: <code>{v.requestId}</code></div> : null}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function Card({ label, value, hint, tone }: { label: string; value: ComponentChildren; hint?: ComponentChildren; tone?: string }) {
  return (
    <div class={`card ${tone ? 'tone-' + tone : ''}`}>
      <div class="card-label">{label}</div>
      <div class="card-value">{value}</div>
      {hint ? <div class="card-hint">{hint}</div> : null}
    </div>
  );
}

const TONES: Record<string, string> = {
  ACTIVE: 'ok', SUCCEEDED: 'ok', CLOSED: 'ok', DONE: 'ok', true: 'ok',
  INACTIVE: 'muted', PAUSED: 'warn', PENDING: 'warn', HALF_OPEN: 'warn', MAINTENANCE: 'warn', RUNNING: 'warn',
  DEPRECATED: 'muted', DISABLED: 'bad', FAILED: 'bad', OPEN: 'bad', false: 'bad',
  DEBUG: 'muted', INFO: 'info', WARN: 'warn', ERROR: 'bad', CRITICAL: 'bad',
};

export function Badge({ value, label, tone }: { value: string; label?: string; tone?: string }) {
  return <span class={`badge tone-${tone ?? TONES[value] ?? 'muted'}`}>{label ?? humanizeEnum(value)}</span>;
}

export function ConfirmDialog({
  open, title, children, confirmLabel, danger, onConfirm, onCancel, busy,
}: {
  open: boolean; title: string; children: ComponentChildren; confirmLabel: string; danger?: boolean;
  onConfirm(): void; onCancel(): void; busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal?.();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <h2 id="confirm-title">{title}</h2>
      <div>{children}</div>
      <div class="row end">
        <button type="button" onClick={onCancel}>Cancel</button>
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('failed');
    }
    setTimeout(() => setDone('idle'), 2000);
  };
  return (
    <button type="button" onClick={copy} aria-live="polite">
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed: select it' : label}
    </button>
  );
}

/** A secret shown this once. */
export function SecretOnce({ secret, what }: { secret: string; what: string }) {
  return (
    <div class="secret-box" role="status">
      <p>
        <strong>The {what} is shown only this once.</strong> Store it now; patchbay keeps no readable copy.
      </p>
      <div class="row">
        <code class="secret" data-testid="secret">{secret}</code>
        <CopyButton text={secret} label="Copy secret" />
      </div>
    </div>
  );
}

export function Pager({ page, hasPrevious, hasNext, onPrevious, onNext, total, label }: {
  page: number; hasPrevious: boolean; hasNext: boolean; onPrevious(): void; onNext(): void; total?: number; label: string;
}) {
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>← Previous</button>
      <span>Page {page}{total !== undefined ? ` · ${total} in all` : ''}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>Next →</button>
    </nav>
  );
}

export function Field({ label, hint, children, id, error }: { label: string; hint?: string; children: ComponentChildren; id: string; error?: string | null }) {
  return (
    <div class={`field ${error ? 'has-error' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint ? <div class="hint" id={`${id}-hint`}>{hint}</div> : null}
      {error ? <div class="field-error" role="alert">{error}</div> : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A labelled progress bar; `value: null` is indeterminate (the total is not known). */
export function ProgressBar({ id, value, max, label, testId }: { id: string; value: number | null; max: number; label: ComponentChildren; testId?: string }) {
  return (
    <div class="progress" data-testid={testId}>
      <label for={id}>{label}</label>
      {value === null ? (
        <progress id={id} max={max} aria-valuetext="in progress" />
      ) : (
        <progress id={id} max={max} value={value}>{Math.round((value / Math.max(max, 1)) * 100)} %</progress>
      )}
    </div>
  );
}
