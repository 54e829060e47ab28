/**
 * The Pulumi program: one ImageResizer configured from the stack config (see Pulumi.yaml for
 * every key and its default, docs/deploy.md for `pulumi up`).
 */
import { ImageResizer } from "./components/image-resizer.js";
import { imageResizerArgsFromConfig } from "./components/stack-config.js";

// Everything a stack can change comes from `pulumi config`; nothing is hard-coded per stack.
const resizer = new ImageResizer("edge-resizer", imageResizerArgsFromConfig());

export const bucketName = resizer.bucketName;
export const distributionId = resizer.distributionId;
export const distributionDomainName = resizer.distributionDomainName;
export const url = resizer.distributionDomainName.apply((domain) => `https://${domain}`);
export const viewerRequestFunctionArn = resizer.viewerRequestFunctionArn;
export const originResponseFunctionArn = resizer.originResponseFunctionArn;
