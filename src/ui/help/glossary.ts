/**
 * The words a volunteer meets, in plain language. Every technical word on a screen links here
 * through <Term id="…">; glossary.test.ts checks that each id used in src/ui exists.
 * Figures quoted here come from docs/protocol.md (constants) and docs/sprint-spec.md.
 */
export interface GlossaryEntry {
  readonly id: string;
  /** The heading in the glossary. */
  readonly term: string;
  /** How the word reads inside a sentence: <Term id> shows it when given no text. */
  readonly word: string;
  readonly definition: string;
}

export const GLOSSARY: readonly GlossaryEntry[] = [
  {
    id: 'sprint',
    word: 'Sprint',
    term: 'Sprint',
    definition:
      'A timed round of work (10 minutes on the live network). Every computer runs the same freshly made AI model on as many numbered tries (nonces) as it can, and keeps the tries that land close to a target.',
  },
  {
    id: 'practice-sprint',
    word: 'practice Sprint',
    term: 'Practice Sprint',
    definition: 'A Sprint this browser runs on its own, with a random seed and no network: it shows what your GPU can do, but earns no weight, CU or rewards.',
  },
  {
    id: 'epoch',
    word: 'epoch',
    term: 'Epoch',
    definition:
      'One cycle of the network (an hour on the live network): the computers agree on a random seed, run a Sprint, publish proofs, check each other, and sign a record of the results. Between Sprints the GPU can answer AI requests.',
  },
  {
    id: 'phase',
    word: 'epoch phase',
    term: 'Epoch phase',
    definition: 'The step an epoch is in: agreeing on the seed, the Sprint, proofs, validation, syncing, certifying, then work until the next epoch.',
  },
  {
    id: 'nonce',
    word: 'nonce',
    term: 'Nonce',
    definition:
      'A numbered try. Your GPU runs the model once per nonce; a small share (one in 900 by default) lands close enough to the target to count as a find.',
  },
  {
    id: 'find',
    word: 'find',
    term: 'Find (appropriate nonce)',
    definition:
      'A nonce whose result lands close enough to the Sprint’s target. Finds cannot be guessed, only computed, so the number of finds shows how much work was done.',
  },
  {
    id: 'seed',
    word: 'seed',
    term: 'Seed',
    definition:
      'A random number the computers agree on at the start of each epoch. It decides the model and the target, so nobody can prepare work in advance.',
  },
  {
    id: 'model',
    word: 'model',
    term: 'Model (canonical, tiny)',
    definition:
      'The AI model a Sprint runs. “canonical” is the network’s model: 64 layers and about 600 million parameters, generated on your GPU from the seed, never downloaded. “tiny” is a small model for tests and demonstrations.',
  },
  {
    id: 'weight',
    word: 'weight',
    term: 'Weight',
    definition:
      'Your say in the network for the next epoch, and your share of its rewards: the number of your finds that other computers checked and accepted.',
  },
  {
    id: 'cu',
    word: 'CU',
    term: 'CU (compute unit)',
    definition:
      '10^15, a million billion, arithmetic operations. The network credits the work it can prove you did in CU; 100 accepted finds on the canonical model are about 0.44 CU.',
  },
  {
    id: 'reward',
    word: 'rewards',
    term: 'Rewards',
    definition:
      'The units the network pays each epoch: 90% to the hosts in proportion to their accepted finds, 10% to the computers that checked them. Rewards become yours (vest) three epochs later; cheating forfeits what has not vested.',
  },
  {
    id: 'proof',
    word: 'proof',
    term: 'Proof',
    definition: 'A signed summary of your finds in one Sprint, published after the Sprint so that others can check it. The full list is sent to whoever asks.',
  },
  {
    id: 'validation',
    word: 'validation',
    term: 'Validation',
    definition:
      'Checking someone’s proof: a computer re-runs a random sample of up to 130 of their finds and says whether they are real. Yours are checked by others, and yours checks theirs.',
  },
  {
    id: 'certificate',
    word: 'certificate',
    term: 'Certificate',
    definition:
      'The record of an epoch’s results (weights, compute, rewards), signed by computers that together hold more than half of the weight. A certified epoch is final.',
  },
  {
    id: 'reputation',
    word: 'reputation',
    term: 'Reputation',
    definition:
      'How many epochs your work was accepted, up to 10. A new computer is checked by about 21 others (everyone in a smaller network); one with full reputation by about seven. Cheating resets it to 0, and so does a proof nobody could check because its list of finds was not reachable; a second unchecked proof before the next accepted one also costs every reward not yet vested.',
  },
  {
    id: 'fraud',
    word: 'fraud flag',
    term: 'Fraud flag',
    definition:
      'Raised when most checkers find that a proof claims work that was not done. It costs that epoch’s weight, every reward not yet vested, and the reputation.',
  },
  { id: 'peer', word: 'peer', term: 'Peer', definition: 'Another computer in the network, usually another volunteer’s browser.' },
  {
    id: 'relay',
    word: 'relay',
    term: 'Relay',
    definition:
      'A server that helps browsers find and reach each other. When two computers cannot connect directly, their traffic passes through the relay (encrypted: the relay cannot read it).',
  },
  {
    id: 'bootstrap',
    word: 'bootstrap address',
    term: 'Bootstrap address',
    definition: 'The address of the relay that a browser contacts first to join the network. The site names one; Settings can name another.',
  },
  {
    id: 'ice',
    word: 'ICE servers',
    term: 'ICE servers (STUN, TURN)',
    definition:
      'Helpers that let two browsers behind home routers connect directly. STUN tells a browser its public address; TURN forwards traffic when nothing else works.',
  },
  {
    id: 'wallet',
    word: 'wallet',
    term: 'Wallet',
    definition:
      'Your identity in the network: a key pair kept in this browser, encrypted with your passphrase. It signs your proofs and receives your rewards.',
  },
  {
    id: 'address',
    word: 'address',
    term: 'Address',
    definition: 'The public name of your wallet (starts with sn1). It is safe to share; rewards are credited to it.',
  },
  {
    id: 'peer-id',
    word: 'peer id',
    term: 'Peer id',
    definition:
      'The name of this computer on the network (starts with 12D3KooW). While your wallet is unlocked it is derived from the wallet’s key, so it stays the same across visits; without an unlocked wallet the browser uses a temporary one.',
  },
  {
    id: 'passphrase',
    word: 'passphrase',
    term: 'Passphrase',
    definition: 'The password that encrypts your wallet in this browser. It never leaves the browser; nobody can reset it for you.',
  },
  {
    id: 'recovery-phrase',
    word: 'recovery phrase',
    term: 'Recovery phrase',
    definition: 'Twelve words that re-create your wallet on any device. Anyone who has them owns your wallet: write them on paper and keep them private.',
  },
  {
    id: 'keystore',
    word: 'keystore file',
    term: 'Keystore file',
    definition: 'Your wallet as a file, encrypted with your passphrase: a backup you can import in another browser.',
  },
  {
    id: 'webgpu',
    word: 'WebGPU',
    term: 'WebGPU',
    definition: 'The browser feature that lets a web page compute on the graphics card. Sprintnet needs it to use your GPU.',
  },
  {
    id: 'adapter',
    word: 'GPU adapter',
    term: 'GPU adapter',
    definition: 'The graphics card (or software stand-in) that the browser offers to web pages through WebGPU.',
  },
  {
    id: 'software-gpu',
    word: 'software GPU',
    term: 'Software GPU',
    definition:
      'A program that imitates a graphics card on the processor (SwiftShader, WARP, lavapipe, llvmpipe). Browsers use one when the real GPU is blocked or missing. It works, but contributing is very slow.',
  },
  {
    id: 'backend',
    word: 'backend',
    term: 'Backend',
    definition:
      'What runs the Sprint model here: WebGPU (the graphics card) or the CPU engine (WebAssembly on every processor core). “Automatic” picks the faster.',
  },
  {
    id: 'gpu-memory',
    word: 'GPU memory',
    term: 'GPU memory',
    definition: 'The graphics card’s own memory. The canonical model’s parameters must fit in it while contributing; it is freed when you stop.',
  },
] as const;

const BY_ID = new Map(GLOSSARY.map((e) => [e.id, e]));

export function glossaryEntry(id: string): GlossaryEntry | undefined {
  return BY_ID.get(id);
}
