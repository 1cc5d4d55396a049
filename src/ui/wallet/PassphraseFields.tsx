import { MIN_PASSPHRASE_LENGTH } from './store.ts';

interface Props {
  prefix: string;
  disabled: boolean;
}

/** New passphrase + repeat, read from the form by name on submit (never kept in React state). */
export function PassphraseFields({ prefix, disabled }: Props) {
  return (
    <>
      <label className="wallet-field">
        Passphrase (at least {MIN_PASSPHRASE_LENGTH} characters)
        <input name="passphrase" type="password" autoComplete="new-password" required disabled={disabled} data-testid={`${prefix}-passphrase`} />
      </label>
      <label className="wallet-field">
        Repeat passphrase
        <input name="repeat" type="password" autoComplete="new-password" required disabled={disabled} data-testid={`${prefix}-passphrase-repeat`} />
      </label>
    </>
  );
}

export function field(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : '';
}
