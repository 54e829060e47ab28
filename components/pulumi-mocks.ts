/**
 * Pulumi mocks for unit tests of programs that use ImageResizer (our tests use them; so can a
 * team testing its own program). `pulumi.runtime.setMocks` replaces the engine: no CLI, no cloud.
 * The mocks record every resource registered and synthesise the outputs AWS would compute
 * (ARNs, the published version's qualified ARN, the OAI's identities, the distribution's domain).
 * Every distribution is checked against CloudFront's and Lambda@Edge's rules (handlers/cloudfront/edge-rules.ts),
 * with the functions it associates: what AWS would refuse is listed in `violations`.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  checkDistributionInputs,
  checkEdgeFunctionInputs,
  checkRuntimeManagementInputs,
  type EdgeEventType,
} from "../handlers/cloudfront/edge-rules.js";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Reference to the explicit provider, `<urn>::<id>`, when one was given. */
  provider?: string;
  /** URN of the parent resource ("" for none). */
  parent: string;
  /** The `retainOnDelete` resource option: a destroy forgets the resource instead of deleting it. */
  retainOnDelete: boolean;
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, any>;
}

export interface PulumiMocks {
  resources: RecordedResource[];
  calls: RecordedCall[];
  /** Resources of one type token, e.g. "aws:lambda/function:Function". */
  ofType(type: string): RecordedResource[];
  /** The one resource of this type whose name ends with `suffix`; throws if there is not exactly one. */
  one(type: string, suffix?: string): RecordedResource;
  /** What CloudFront or Lambda would refuse in the distributions registered so far (and their functions). */
  violations: string[];
  /** CloudFormation properties of existing buckets (as Cloud Control describes them), by name; default `{}`. */
  existingBuckets: Map<string, { region?: string; properties?: Record<string, unknown> }>;
}

export const ACCOUNT_ID = "123456789012";

type ResourceOptions = { parent: string; retainOnDelete: boolean };

/** Installs recording mocks for `project`/`stack`. Await it before creating resources. */
export async function installPulumiMocks(project = "edge-resizer", stack = "test", bucketRegion = "eu-west-1"): Promise<PulumiMocks> {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  const violations: string[] = [];
  const existingBuckets: PulumiMocks["existingBuckets"] = new Map();
  // Resource options are not part of MockResourceArgs: they are read off the registration request.
  const options = new Map<string, ResourceOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { parent = "", retainOnDelete = false } = options.get(`${args.type}::${args.name}`) ?? {};
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, parent, retainOnDelete });
        const id = `${args.name}-id`;
        const state = mockedState(args.type, args.name, args.inputs, id, bucketRegion);
        if (args.type === "aws:cloudfront/distribution:Distribution") {
          violations.push(...distributionViolations(args.name, args.inputs, resources));
        }
        if (args.type === RUNTIME_MANAGEMENT) violations.push(...lateRuntimeManagementViolations(args.inputs, resources));
        return { id, state };
      },
      call(args) {
        calls.push({ token: args.token, inputs: args.inputs });
        return mockedCall(args.token, args.inputs, existingBuckets, bucketRegion);
      },
    },
    project,
    stack,
    false,
  );
  recordResourceOptions(options);
  return mocksView(resources, calls, violations, existingBuckets);
}

/** A resource's state: its inputs plus the outputs AWS would compute for it. */
function mockedState(type: string, name: string, inputs: Record<string, any>, id: string, bucketRegion: string): Record<string, any> {
  const state: Record<string, any> = { ...inputs };
  switch (type) {
    case "aws:s3/bucket:Bucket":
      state.bucket = name;
      state.arn = `arn:aws:s3:::${name}`;
      state.bucketRegionalDomainName = `${name}.s3.${bucketRegion}.amazonaws.com`;
      break;
    case "aws:cloudfront/originAccessIdentity:OriginAccessIdentity":
      state.iamArn = `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ${id}`;
      state.cloudfrontAccessIdentityPath = `origin-access-identity/cloudfront/${id}`;
      break;
    case "aws:cloudfront/originAccessControl:OriginAccessControl":
      state.etag = "E2QWRUHEXAMPLE";
      break;
    case "aws:iam/role:Role":
      state.arn = `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
      state.name = name;
      break;
    case "aws:lambda/function:Function":
      state.name = name;
      // Without a `region` input a function lands in the stack's region, as with the real provider.
      state.arn = `arn:aws:lambda:${inputs.region ?? bucketRegion}:${ACCOUNT_ID}:function:${name}`;
      state.version = inputs.publish ? "1" : "$LATEST";
      state.qualifiedArn = `${state.arn}:${state.version}`;
      break;
    case "aws:wafv2/webAcl:WebAcl":
      // CloudFront web ACLs are global (scope CLOUDFRONT), managed through us-east-1.
      state.arn = `arn:aws:wafv2:us-east-1:${ACCOUNT_ID}:global/webacl/${name}/${id}`;
      break;
    case "aws:sqs/queue:Queue":
      // Like a function, a queue or a rule without a `region` input lands in the stack's region.
      state.arn = `arn:aws:sqs:${inputs.region ?? bucketRegion}:${ACCOUNT_ID}:${name}`;
      state.url = `https://sqs.${inputs.region ?? bucketRegion}.amazonaws.com/${ACCOUNT_ID}/${name}`;
      break;
    case "aws:cloudwatch/eventRule:EventRule":
      state.name = name;
      state.arn = `arn:aws:events:${inputs.region ?? bucketRegion}:${ACCOUNT_ID}:rule/${name}`;
      break;
    case "aws:cloudfront/distribution:Distribution":
      state.domainName = "d111111abcdef8.cloudfront.net";
      state.arn = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${id}`;
      break;
  }
  return state;
}

/** The answer to an invoke: the caller's identity and the bucket look-ups the component makes; anything else is a test bug. */
function mockedCall(
  token: string,
  inputs: Record<string, any>,
  existingBuckets: PulumiMocks["existingBuckets"],
  bucketRegion: string,
): Record<string, any> {
  if (token === "aws:index/getCallerIdentity:getCallerIdentity") {
    return { id: ACCOUNT_ID, accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/deployer`, userId: "AIDAEXAMPLE" };
  }
  if (token === "aws:s3/getBucket:getBucket") {
    const bucket = inputs.bucket as string;
    const region = existingBuckets.get(bucket)?.region ?? bucketRegion;
    return {
      bucket,
      id: bucket,
      arn: `arn:aws:s3:::${bucket}`,
      bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
      region,
    };
  }
  if (token === "aws:cloudcontrol/getResource:getResource" && inputs.typeName === "AWS::S3::Bucket") {
    const described = existingBuckets.get(inputs.identifier);
    return {
      ...inputs,
      id: inputs.identifier,
      properties: JSON.stringify(described?.properties ?? {}),
      region: inputs.region ?? bucketRegion,
    };
  }
  throw new Error(`unexpected invoke ${token}`);
}

/** Wraps the mock monitor's registerResource so each resource's parent and retainOnDelete are kept in `options`. */
function recordResourceOptions(options: Map<string, ResourceOptions>): void {
  type RegisterRequest = { getType(): string; getName(): string; getParent(): string; getRetainondelete(): boolean | undefined };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, callback: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    options.set(`${req.getType()}::${req.getName()}`, { parent: req.getParent(), retainOnDelete: req.getRetainondelete() ?? false });
    return register(req, callback);
  };
}

function mocksView(
  resources: RecordedResource[],
  calls: RecordedCall[],
  violations: string[],
  existingBuckets: PulumiMocks["existingBuckets"],
): PulumiMocks {
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    calls,
    violations,
    existingBuckets,
    ofType,
    one(type, suffix = "") {
      const found = ofType(type).filter((r) => r.name.endsWith(suffix));
      if (found.length !== 1)
        throw new Error(`expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
      return found[0]!;
    },
  };
}

/** A distribution's violations, with those of every function it associates (found by its qualified ARN). */
function distributionViolations(name: string, inputs: Record<string, any>, resources: RecordedResource[]): string[] {
  const found = checkDistributionInputs(inputs);
  const behaviours = [inputs.defaultCacheBehavior, ...(inputs.orderedCacheBehaviors ?? [])].filter(Boolean);
  for (const association of behaviours.flatMap((b) => b.lambdaFunctionAssociations ?? [])) {
    const functionName = /:function:([^:]+)/.exec(String(association.lambdaArn))?.[1];
    const fn = resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === functionName);
    if (!fn) found.push(`${association.eventType}: no function registered for ${association.lambdaArn}`);
    else found.push(...edgeFunctionViolations(association.eventType as EdgeEventType, fn, resources).map((v) => `${fn.name}: ${v}`));
  }
  return found.map((v) => `${name}: ${v}`);
}

const RUNTIME_MANAGEMENT = "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig";

/** A runtime management configuration registered after the distributions that associate its function. */
function lateRuntimeManagementViolations(inputs: Record<string, any>, resources: RecordedResource[]): string[] {
  const found = checkRuntimeManagementInputs(inputs);
  if (found.length === 0) return [];
  return resources
    .filter((r) => r.type === "aws:cloudfront/distribution:Distribution")
    .filter((d) =>
      [d.inputs.defaultCacheBehavior, ...(d.inputs.orderedCacheBehaviors ?? [])]
        .filter(Boolean)
        .flatMap((b) => b.lambdaFunctionAssociations ?? [])
        .some((a: { lambdaArn?: string }) => /:function:([^:]+)/.exec(String(a.lambdaArn))?.[1] === inputs.functionName),
    )
    .flatMap((d) => found.map((v) => `${d.name}: ${inputs.functionName}: ${v}`));
}

/** An associated function's own inputs, and any runtime management configuration registered for it. */
function edgeFunctionViolations(eventType: EdgeEventType, fn: RecordedResource, resources: RecordedResource[]): string[] {
  const runtimeConfigs = resources.filter((r) => r.type === RUNTIME_MANAGEMENT && r.inputs.functionName === fn.name);
  return [...checkEdgeFunctionInputs(eventType, fn.inputs), ...runtimeConfigs.flatMap((r) => checkRuntimeManagementInputs(r.inputs))];
}

/** The value of an Output (mocks run with preview off, so every mocked value is known). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) =>
    output.apply((v) => {
      resolve(v);
      return v;
    }),
  );
}

/** Whether an Output is marked secret. */
export function isSecretOutput(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** A recorded input, with Pulumi's secret wrapper taken off and whether it was there. */
export function unwrapSecret(value: unknown): { secret: boolean; value: any } {
  if (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  ) {
    return { secret: true, value: (value as { value: unknown }).value };
  }
  return { secret: false, value };
}

export type ArchiveMember = { kind: "text"; text: string } | { kind: "file"; path: string } | { kind: "archive"; path: string };

/** The top-level members of an AssetArchive as recorded by the mocks (paths resolved, texts read). */
export async function archiveMembers(archive: unknown): Promise<Record<string, ArchiveMember>> {
  if (!(archive instanceof pulumi.asset.AssetArchive)) throw new Error(`not an AssetArchive: ${String(archive)}`);
  const members: Record<string, ArchiveMember> = {};
  for (const [name, member] of Object.entries(await archive.assets)) {
    if (member instanceof pulumi.asset.StringAsset) members[name] = { kind: "text", text: await member.text };
    else if (member instanceof pulumi.asset.FileAsset) members[name] = { kind: "file", path: await member.path };
    else if (member instanceof pulumi.asset.FileArchive) members[name] = { kind: "archive", path: await member.path };
    else throw new Error(`archive member ${name} is of an unexpected kind`);
  }
  return members;
}
