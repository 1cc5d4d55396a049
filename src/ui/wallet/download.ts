/** Saves `json` as a file through the browser's download. */
export function download(json: string, name: string): void {
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const keystoreFileName = (address: string | undefined): string => `sprintnet-keystore-${address ?? 'wallet'}.json`;
