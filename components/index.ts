/**
 * The public API of the `edge-resizer` package: `import { ImageResizer } from "edge-resizer"`
 * in another Pulumi program, or reuse the packaging and the stack-config mapping.
 */
export {
  ImageResizer,
  IMAGE_RESIZER_DEFAULTS,
  PRICE_CLASSES,
  originResponseAccessPolicy,
  viewerRequestAccessPolicy,
  edgeCodeArchive,
  edgeTrustPolicy,
  oacReadPolicy,
  oaiReadPolicy,
  resolveImageResizerArgs,
  type ImageResizerArgs,
  type ImageResizerSettings,
  type PriceClass,
} from "./image-resizer.js";
export { buildEdgeBundles, buildEdgeFunction, ensureLambdaSharp, lockedSharpVersion, type EdgeBundle, type EdgeBundles } from "./bundle.js";
export { archiveMembers, installPulumiMocks, valueOf, type PulumiMocks, type RecordedResource } from "./pulumi-mocks.js";
export { imageResizerArgsFromConfig, INFRA_CONFIG_KEYS, SETTINGS_CONFIG_KEYS } from "./stack-config.js";
export { DEFAULT_SETTINGS, validateSettings, type Settings } from "../handlers/core/settings.js";
