/** Replaced by the wallet screens (issue: in-browser wallet). */
export function WalletPanel() {
  return (
    <section className="panel" aria-labelledby="wallet-title">
      <h2 id="wallet-title">Wallet</h2>
      <p className="muted">Loading wallet…</p>
    </section>
  );
}
