import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { useState } from 'preact/hooks';
import { SchemaFields } from './SchemaFields';
import { ProgressBar } from './ui';
import { ReadinessPanel } from './Readiness';
import { formOf, initialValues, toValue, type FormValues } from '../lib/schemaForm';

afterEach(cleanup);

const schema = {
  type: 'object',
  required: ['site'],
  properties: {
    site: { type: 'string', description: 'Your Atlassian site' },
    region: { type: 'string', enum: ['eu', 'us'], default: 'eu' },
    limit: { type: 'integer', minimum: 1 },
    token: { type: 'string', writeOnly: true },
    debug: { type: 'boolean', description: 'Log bodies' },
  },
};

/** The settings step in small: fields from the schema, errors shown after "Next". */
function Harness({ onValue }: { onValue(v: unknown): void }) {
  const form = formOf(schema, { example: { site: 'acme' } });
  const [values, setValues] = useState<FormValues>(() => initialValues(form));
  const [errors, setErrors] = useState<Record<string, string>>({});
  return (
    <form onSubmit={(e) => { e.preventDefault(); const r = toValue(form, values); setErrors(r.errors); if (!Object.keys(r.errors).length) onValue(r.value); }}>
      <SchemaFields form={form} values={values} errors={errors} prefix="t" emptyText="none" onChange={(k, v) => setValues((x) => ({ ...x, [k]: v }))} />
      <button type="submit">Next</button>
    </form>
  );
}

describe('SchemaFields', () => {
  it('renders labelled inputs by type, with hints, defaults and secrets', () => {
    render(<Harness onValue={() => {}} />);
    const site = screen.getByLabelText('Site *') as HTMLInputElement;
    expect(site.placeholder).toBe('e.g. acme');
    expect(site.getAttribute('aria-required')).toBe('true');
    expect(document.getElementById(site.getAttribute('aria-describedby')!)!.textContent).toContain('Your Atlassian site');
    const region = screen.getByLabelText('Region') as HTMLSelectElement;
    expect(region.tagName).toBe('SELECT');
    expect([...region.options].map((o) => o.textContent)).toEqual(['Default (eu)', 'eu', 'us']);
    expect((screen.getByLabelText('Token') as HTMLInputElement).type).toBe('password');
    expect((screen.getByLabelText('Debug') as HTMLInputElement).type).toBe('checkbox');
  });

  it('shows inline errors, then gives typed values', () => {
    let value: unknown = null;
    render(<Harness onValue={(v) => { value = v; }} />);
    fireEvent.input(screen.getByLabelText('Limit'), { target: { value: '0' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    const alerts = screen.getAllByRole('alert').map((a) => a.textContent);
    expect(alerts).toEqual(['is required', 'must be at least 1']);
    expect((screen.getByLabelText('Site *') as HTMLInputElement).getAttribute('aria-invalid')).toBe('true');
    expect(value).toBeNull();
    fireEvent.input(screen.getByLabelText('Site *'), { target: { value: 'acme' } });
    fireEvent.input(screen.getByLabelText('Limit'), { target: { value: '10' } });
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: '"us"' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.queryAllByRole('alert')).toHaveLength(0);
    // An unchecked optional box without a default says nothing, so it is left out.
    expect(value).toEqual({ site: 'acme', region: 'us', limit: 10 });
  });
});

describe('ProgressBar and readiness', () => {
  it('is indeterminate without a value and labelled', () => {
    const { container } = render(<ProgressBar id="p" value={null} max={1} label="Running: 2 pages" />);
    const bar = screen.getByLabelText('Running: 2 pages') as HTMLProgressElement;
    expect(bar.hasAttribute('value')).toBe(false);
    cleanup();
    render(<ProgressBar id="q" value={3} max={4} label="3 of 4" />);
    expect((screen.getByLabelText('3 of 4') as HTMLProgressElement).value).toBe(3);
    expect(container).toBeTruthy();
  });

  it('lists the readiness checks with their outcome in text, not colour only', () => {
    render(<ReadinessPanel readiness={{
      score: 47, passed: false,
      checks: [
        { name: 'retry_policy', passed: true, severity: 'INFO', detail: '3 retries with backoff' },
        { name: 'https', passed: false, severity: 'CRITICAL', detail: 'not HTTPS' },
      ],
    }} />);
    expect(screen.getByText('Not ready: 1 critical')).toBeTruthy();
    const items = screen.getAllByRole('listitem').map((li) => li.textContent);
    expect(items[0]).toContain('Failed:');
    expect(items[0]).toContain('Https');
    expect(items[1]).toContain('Passed:');
    expect((screen.getByLabelText(/Score 47/) as HTMLMeterElement).value).toBe(47);
  });
});
