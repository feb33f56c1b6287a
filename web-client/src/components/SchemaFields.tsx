// Inputs generated from a JSON Schema form (see lib/schemaForm): labels, hints, defaults,
// enums as selects, secrets as password inputs, errors at their field.
import { Field } from './ui';
import { placeholderOf, type FormValues, type SchemaForm } from '../lib/schemaForm';

export function SchemaFields({ form, values, onChange, errors, prefix, emptyText }: {
  form: SchemaForm;
  values: FormValues;
  onChange(key: string, value: string | boolean): void;
  errors: Record<string, string | undefined>;
  prefix: string;
  emptyText: string;
}) {
  if (!form.fields.length) return <p class="muted">{emptyText}</p>;
  return (
    <div class="form-grid">
      {form.fields.map((f) => {
        const id = `${prefix}-${f.key}`;
        const error = errors[f.key];
        const description = f.description ? (/[.!?]$/.test(f.description.trim()) ? f.description.trim() : `${f.description.trim()}.`) : undefined;
        const hint = [description, f.required ? 'Required.' : f.defaultValue !== undefined ? 'Optional: empty uses the default.' : 'Optional.']
          .filter(Boolean)
          .join(' ');
        const label = f.label + (f.required ? ' *' : '');
        const describedBy = `${id}-hint`;
        if (f.kind === 'boolean') {
          return (
            <div class="field checkbox-field" key={f.key}>
              <input id={id} type="checkbox" checked={values[f.key] === true} disabled={f.constValue !== undefined}
                onChange={(e) => onChange(f.key, e.currentTarget.checked)} aria-describedby={describedBy} />
              <label for={id}>{f.label}</label>
              <span class="hint" id={describedBy}>{f.description ?? ''}</span>
            </div>
          );
        }
        const common = {
          id,
          'aria-invalid': error ? true : undefined,
          'aria-describedby': describedBy,
          'aria-required': f.required || undefined,
          disabled: f.constValue !== undefined,
        };
        const text = typeof values[f.key] === 'string' ? (values[f.key] as string) : '';
        let input;
        if (f.kind === 'enum') {
          input = (
            <select {...common} value={text} onChange={(e) => onChange(f.key, e.currentTarget.value)}>
              <option value="">{f.defaultValue !== undefined ? `Default (${String(f.defaultValue)})` : 'Choose…'}</option>
              {(f.options ?? []).map((o) => <option key={JSON.stringify(o)} value={JSON.stringify(o)}>{String(o)}</option>)}
            </select>
          );
        } else if (f.kind === 'json') {
          input = <textarea {...common} class="mono" rows={3} value={text} placeholder={placeholderOf(f)} onInput={(e) => onChange(f.key, e.currentTarget.value)} />;
        } else {
          input = (
            <input
              {...common}
              type={(f.secret ? 'password' : f.format === 'uri' ? 'url' : 'text') as 'text'}
              inputMode={f.kind === 'integer' ? 'numeric' : f.kind === 'number' ? 'decimal' : undefined}
              autoComplete={f.secret ? 'new-password' : 'off'}
              spellcheck={false}
              value={text}
              placeholder={f.secret ? '' : placeholderOf(f)}
              onInput={(e) => onChange(f.key, e.currentTarget.value)}
            />
          );
        }
        return (
          <Field key={f.key} id={id} label={label} hint={hint + (f.kind === 'list' ? ' Comma-separated.' : '')} error={error}>
            {input}
          </Field>
        );
      })}
    </div>
  );
}
