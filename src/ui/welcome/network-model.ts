/**
 * The Sprint model this page would run, for the welcome's figures and the compatibility verdict:
 * the genesis's config once network.json is read, else `canonical`, what a live network runs. The
 * local demo runs `tiny`, which needs 175 KiB where canonical needs 584 MiB: canonical figures
 * there would overstate the load three thousandfold.
 */
import { CONFIGS, getConfig, type SprintConfig } from '../../sprint/config.ts';
import { useNetworkStore } from '../network/store.ts';

export interface NetworkModel {
  readonly config: SprintConfig;
  /** Whether the config is the genesis's (false: no network known yet, canonical shown). */
  readonly fromNetwork: boolean;
}

export function networkModel(genesisConfig: string | undefined): NetworkModel {
  return genesisConfig ? { config: getConfig(genesisConfig), fromNetwork: true } : { config: CONFIGS.canonical, fromNetwork: false };
}

export function useNetworkModel(): NetworkModel {
  return networkModel(useNetworkStore((s) => s.genesis?.config));
}
