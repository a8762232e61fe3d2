/**
 * Device choice at run time (DESIGN.md convention 6): 'auto' takes the best available and
 * records why it fell back; an explicit 'cuda' without a usable GPU is a clear error.
 */
import { CudaError, InvalidArgumentError } from '../errors';
import { native } from '../native';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';

export interface DeviceChoice {
  device: 'cpu' | 'cuda';
  /** Why 'auto' did not pick CUDA (absent when CUDA was picked or CPU was asked for). */
  fallbackReason?: string;
}

/** Whether this build has CUDA scan kernels (the device probe alone is not enough). */
export function cudaScanAvailable(): boolean {
  return typeof (native() as unknown as { startScanCuda?: unknown }).startScanCuda === 'function';
}

export function chooseDevice(request: DeviceRequest = 'auto'): DeviceChoice {
  if (request !== 'auto' && request !== 'cpu' && request !== 'cuda') {
    throw new InvalidArgumentError('E_INVALID_ARG', `--device must be auto, cpu or cuda, got '${request}'`);
  }
  if (request === 'cpu') return { device: 'cpu' };
  const status = native().cudaStatus();
  let reason: string | undefined;
  if (!status.usable) reason = status.reason;
  else if (!cudaScanAvailable()) reason = 'this build has no CUDA scan kernels';
  if (reason === undefined) return { device: 'cuda' };
  if (request === 'cuda') throw new CudaError('E_NO_CUDA', `--device cuda: CUDA is not usable: ${reason}`);
  return { device: 'cpu', fallbackReason: reason };
}
