/** Images: what containers do (by image) and what `kubectl exec` runs in them. */
export * from './types.js';
export { behaviourForImage, behaviourEntryForImage, BUILTIN_IMAGES } from './known-images.js';
export { ImageBehaviours, type BuiltinImages } from './image-table.js';
export { parseImage, type ImageRef } from './image.js';
export { runInContainer, ExecStartError, containerFs, processEnv, execExitStatus, execStartFailureStatus, type RunInContainerOptions } from './shell/index.js';
export { ContainerStartError } from './behaviours/process.js';
export { registryPull, fullReference, type PullFailure } from './registry.js';
