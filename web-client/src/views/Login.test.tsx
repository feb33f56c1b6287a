import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { LoginScreen } from './Login';
import { ErrorBox } from '../components/ui';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function stubFetch(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

describe('LoginScreen', () => {
  it('explains a refused token', () => {
    render(<LoginScreen reason="refused" onToken={() => {}} />);
    expect(screen.getByTestId('token-refused').textContent).toContain('invalid or has been revoked');
  });

  it('asks for a token when the field is empty', async () => {
    const onToken = vi.fn();
    render(<LoginScreen reason="none" onToken={onToken} />);
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByText(/Paste an API token/);
    expect(onToken).not.toHaveBeenCalled();
  });

  it('checks a pasted login URL and hands over its token', async () => {
    const fetch = stubFetch(200, { data: { viewer: { name: 'admin' } } });
    const onToken = vi.fn();
    render(<LoginScreen reason="none" onToken={onToken} />);
    fireEvent.input(screen.getByLabelText('API token or login URL'), { target: { value: 'http://h:1/graphql#token=pbk_ok' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(onToken).toHaveBeenCalledWith('pbk_ok'));
    const init = (fetch.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer pbk_ok');
  });

  it('says so when the server refuses the token', async () => {
    stubFetch(401, { errors: [{ message: 'unknown token', extensions: { code: 'UNAUTHENTICATED' } }] });
    const onToken = vi.fn();
    render(<LoginScreen reason="none" onToken={onToken} />);
    fireEvent.input(screen.getByLabelText('API token or login URL'), { target: { value: 'pbk_bad' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByText(/refused this token/);
    expect(onToken).not.toHaveBeenCalled();
  });
});

describe('ErrorBox', () => {
  it('shows the code, message and field of a GraphQL error', () => {
    render(<ErrorBox error={{ graphQLErrors: [{ message: 'name taken', extensions: { code: 'CONFLICT', field: 'input.name' } }] }} />);
    const box = screen.getByRole('alert');
    expect(box.textContent).toContain('Changed elsewhere');
    expect(box.textContent).toContain('CONFLICT');
    expect(box.textContent).toContain('input.name');
  });
  it('renders nothing without an error', () => {
    const { container } = render(<ErrorBox error={null} />);
    expect(container.innerHTML).toBe('');
  });
});
