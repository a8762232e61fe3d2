/**
 * Device choice at run time: 'auto' takes the best available and
 * records why it fell back; an explicit 'cuda' without a usable GPU is a clear error.
 */
import { CudaError, InvalidArgumentError } from '../errors';
import { native } from '../native';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';

export interface DeviceChoice {
  device: 'cpu' | 'cuda';
  /** Why 'auto' did not pick CUDA (absent when CUDA was picked or CPU was asked for). */
  fallbackReason?: string;
  /** When CUDA was picked: the device index and its name. */
  cudaDevice?: number;
  deviceName?: string;
}

/** Whether this build has CUDA scan kernels (the device probe alone is not enough). */
export function cudaScanAvailable(): boolean {
  return typeof (native() as unknown as { startScanCuda?: unknown }).startScanCuda === 'function';
}

/** `cudaDevice` picks among several GPUs (default 0); asking for one that is absent is an error. */
export function chooseDevice(request: DeviceRequest = 'auto', cudaDevice = 0): DeviceChoice {
  if (request !== 'auto' && request !== 'cpu' && request !== 'cuda') {
    throw new InvalidArgumentError('E_INVALID_ARG', `device must be 'auto', 'cpu' or 'cuda', got '${request}'`);
  }
  if (request === 'cpu') return { device: 'cpu' };
  const status = native().cudaStatus();
  let reason: string | undefined;
  if (!status.usable) reason = status.reason;
  else if (!cudaScanAvailable()) reason = 'this build has no CUDA scan kernels';
  if (reason === undefined) {
    const gpu = status.devices.find((d) => d.index === cudaDevice);
    if (!gpu) {
      throw new InvalidArgumentError('E_INVALID_ARG', `CUDA device ${cudaDevice} does not exist (${status.devices.length} found)`);
    }
    return { device: 'cuda', cudaDevice, deviceName: gpu.name };
  }
  if (request === 'cuda') throw new CudaError('E_NO_CUDA', `device 'cuda': CUDA is not usable: ${reason}`);
  return { device: 'cpu', fallbackReason: reason };
}
