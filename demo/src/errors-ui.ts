// What the page says when the GPU cannot do what was asked: no WebGPU, an image over the
// device's limits (LimitError), a lost device (DeviceLostError, with a retry that builds a new engine).
import { DeviceLostError, FullconvError, LimitError } from '../../src/index.js';

export type ProblemKind = 'no-webgpu' | 'limit' | 'device-lost' | 'other';

export interface ProblemActions {
  retry?: () => void;
  shrink?: () => void;
}

export function webgpuMissingMessage(): string | null {
  if (typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu) return null;
  const insecure = typeof window !== 'undefined' && !window.isSecureContext;
  return (
    'This browser has no WebGPU (navigator.gpu is missing), so nothing can run on the GPU. ' +
    (insecure
      ? 'The page is not in a secure context: open it from http://127.0.0.1 or https, as `npm run demo` prints. '
      : 'Use a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows); on Linux, Chrome needs --enable-unsafe-webgpu or chrome://flags/#enable-unsafe-webgpu. ') +
    'The convolution formulas below still work.'
  );
}

export function classify(e: unknown): ProblemKind {
  if (e instanceof DeviceLostError) return 'device-lost';
  if (e instanceof LimitError) return 'limit';
  return 'other';
}

function describeProblem(e: unknown, kind: ProblemKind, imageSize: string): string {
  const message = e instanceof Error ? e.message : String(e);
  switch (kind) {
    case 'device-lost':
      return `The GPU device was lost (DeviceLostError: ${message}). This happens when the driver resets or the tab was in the background for long. Retry builds a new engine and runs again.`;
    case 'limit':
      return `The image (${imageSize}) is too large for this GPU (LimitError: ${message}). Shrink it, or use a smaller image.`;
    default:
      return e instanceof FullconvError ? `${e.name}: ${message}` : `Something went wrong: ${message}`;
  }
}

export class ProblemBanner {
  constructor(private readonly root: HTMLElement) {}

  get kind(): ProblemKind | null {
    return this.root.hidden ? null : ((this.root.dataset.kind as ProblemKind | undefined) ?? null);
  }

  show(kind: ProblemKind, text: string, actions: ProblemActions = {}): void {
    this.root.hidden = false;
    this.root.dataset.kind = kind;
    const message = document.createElement('p');
    message.textContent = text;
    const buttons: HTMLButtonElement[] = [];
    const button = (label: string, id: string, action: () => void): void => {
      const b = document.createElement('button');
      b.textContent = label;
      b.id = id;
      b.addEventListener('click', () => {
        this.clear();
        action();
      });
      buttons.push(b);
    };
    if (actions.retry) button('Retry with a new engine', 'problem-retry', actions.retry);
    if (actions.shrink) button('Shrink the image by half', 'problem-shrink', actions.shrink);
    this.root.replaceChildren(message, ...buttons);
  }

  showError(e: unknown, imageSize: string, actions: ProblemActions): ProblemKind {
    const kind = classify(e);
    this.show(kind, describeProblem(e, kind, imageSize), {
      ...(kind === 'device-lost' ? { retry: actions.retry } : {}),
      ...(kind === 'limit' ? { shrink: actions.shrink } : {}),
    });
    return kind;
  }

  clear(): void {
    this.root.hidden = true;
    this.root.replaceChildren();
    delete this.root.dataset.kind;
  }
}
