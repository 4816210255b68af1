/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node: Dawn through the `webgpu` package (a development dependency: install it
 * to run the WGSL kernels outside a browser). Kept apart from the runner so that a browser
 * bundle never sees it.
 *
 * Without a GPU, Dawn needs a Vulkan driver: the SwiftShader ICD of Debian's `chromium`
 * package works (`VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
 * XDG_RUNTIME_DIR=/tmp`, docs/webgpu.md); Mesa's lavapipe is rejected by Dawn.
 */

/** The SwiftShader Vulkan driver that Debian's chromium package ships. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let kept: GPU | undefined;

/**
 * A `GPU` object (what navigator.gpu is in a browser), created once per process. The Vulkan
 * loader reads VK_ICD_FILENAMES when it is created, so set the environment before the first call.
 */
export async function nodeGpu(flags: readonly string[] = []): Promise<GPU> {
  if (kept) return kept;
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (err) {
    throw new Error(`WebGPU in Node needs the \`webgpu\` package (npm i -D webgpu): ${(err as Error).message}`);
  }
  // the GPU* classes and constants (GPUBufferUsage, …) as globals, as in a browser
  Object.assign(globalThis, mod.globals);
  kept = mod.create([...flags]);
  return kept;
}
