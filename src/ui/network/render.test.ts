/**
 * The ledger screen's private-inference parts rendered to HTML on the server (no DOM: vitest runs in
 * Node): each volunteer's judged sessions, and the inference verdicts this page published or why
 * it does not judge.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { JudgeSnapshot } from '../../app/inference-judge.ts';
import { InferenceReputationTable, InferenceVerdictsList, LedgerSourceLine } from './LedgerParts.tsx';
import { ConnectionList } from './NetworkPanel.tsx';
import type { ConnectionInfo } from '../../node/index.ts';

const V = 'ab'.repeat(32);
const judge = (j: Partial<JudgeSnapshot>): JudgeSnapshot => ({ published: [], waiting: null, missed: [], lastProblem: null, ...j });

describe('ledger screen: private inference', () => {
  it('lists each volunteer with its sessions judged consistent, inconsistent, invalid, not yet, and its CU', () => {
    const records = [{ volunteer: V, consistent: 3, inconsistent: 1, invalid: 0, unjudged: 2 }];
    const html = renderToStaticMarkup(createElement(InferenceReputationTable, { records, rows: [{ publicKey: V, inferenceCuTotal: 1.45e-8 }], me: V }));
    expect(html).toContain('data-testid="inference-reputation-row"');
    expect(html).toMatch(/data-consistent="3" data-inconsistent="1" data-invalid="0"/);
    expect(html).toContain('abababab…abab (you)</td><td>3</td><td>1</td><td>0</td><td>2</td><td>1.45e-8</td>');
    expect(renderToStaticMarkup(createElement(InferenceReputationTable, { records: [], rows: [], me: null }))).toBe('');
  });

  it('shows the inference verdicts this page published, the unlock it waits for, and why it does not judge', () => {
    expect(renderToStaticMarkup(createElement(InferenceVerdictsList, { judge: null }))).toMatch(
      /data-testid="inference-verdicts-given" data-state="off"[^>]*>Not judging: load a model/,
    );
    const html = renderToStaticMarkup(
      createElement(InferenceVerdictsList, {
        judge: judge({
          published: [{ proofId: 'cd'.repeat(32), epoch: 4, volunteer: V, verdict: 'inconsistent', checked: 8, detail: 'step 6: logits differ', at: 1 }],
          waiting: { proofId: 'ef'.repeat(32), until: 2 },
          missed: [{ proofId: '01'.repeat(32), at: 3 }],
        }),
      }),
    );
    expect(html).toMatch(/data-testid="inference-verdicts-given" data-state="waiting" data-count="1"/);
    expect(html).toContain('Wallet locked: unlock to judge an inference proof');
    expect(html).toContain(
      `data-verdict="inconsistent" data-volunteer="${V}">Epoch 4: volunteer abababab…abab, 8 steps re-run: inconsistent: the re-run disagreed`,
    );
    expect(html).toContain('1 proof not judged: the wallet was locked until the validation window closed.');
  });
});

describe('ledger screen: the followed ledger', () => {
  it('says whether this page takes part, follows without taking part, or waits', () => {
    const line = (source: 'runtime' | 'follower' | 'none', mode: 'off' | 'opening' | 'following' | 'handed-over') =>
      renderToStaticMarkup(createElement(LedgerSourceLine, { source, mode }));
    expect(line('follower', 'following')).toMatch(
      /data-source="follower" data-mode="following">This browser follows the ledger without taking part: .*signs and sends nothing/,
    );
    expect(line('runtime', 'handed-over')).toContain('takes part (Contribute) and derives the ledger itself');
    expect(line('none', 'opening')).toContain('waiting for the network’s messages');
    expect(line('none', 'off')).toContain('Not following the ledger yet.');
  });
});

describe('network screen: connections', () => {
  it('lists two connections to one peer over one relayed address as two rows, keyed apart, saying who dialled', () => {
    // A relayed peer often holds one connection each way with the same remote address; keyed by
    // peer and address, React saw two children with one key (a console error on every update).
    const addr = '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWRelay/p2p-circuit/p2p/12D3KooWPeer';
    const conn = (id: string, direction: ConnectionInfo['direction']): ConnectionInfo => ({
      id,
      peerId: '12D3KooWPeer',
      remoteAddr: addr,
      transport: 'relayed',
      direction,
      limited: true,
    });
    const connections = [conn('c1', 'inbound'), conn('c2', 'outbound')];
    const list = ConnectionList({ connections }) as { props: { children: { key: string | null }[] } };
    const keys = list.props.children.map((li) => li.key);
    expect(new Set(keys).size).toBe(2);
    const html = renderToStaticMarkup(createElement(ConnectionList, { connections }));
    expect(html.match(/data-testid="network-connection"/g)).toHaveLength(2);
    expect(html).toContain('through relay, limited by the relay · they dialled');
    expect(html).toContain('through relay, limited by the relay · we dialled');
    expect(renderToStaticMarkup(createElement(ConnectionList, { connections: [] }))).toContain('No connection.');
  });
});
