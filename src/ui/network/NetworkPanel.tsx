/** Replaced by the peer-to-peer status view (issue: peer-to-peer network). */
export function NetworkPanel() {
  return (
    <section className="panel" aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <p className="muted">Not connected.</p>
    </section>
  );
}
