/**
 * What the settings schema claims about each setting beyond its type: which settings are part of
 * the variant key (checked against variantKey itself), and which are baked from an infrastructure
 * argument (checked against the infrastructure schema).
 */
import test from "ava";
import { INFRA_SCHEMA } from "../../components/infra-schema.js";
import { basePlan, type TransformPlan } from "../../handlers/core/plan.js";
import type { SchemaEntry } from "../../handlers/core/schema.js";
import { DEFAULT_SETTINGS, SETTINGS_SCHEMA, type Settings, type SettingsSchema } from "../../handlers/core/settings.js";
import { variantKey } from "../../handlers/core/variant-key.js";

const schema: SettingsSchema = SETTINGS_SCHEMA;

/** A value of the entry's type other than its default. */
function otherValue(entry: SchemaEntry): unknown {
  switch (entry.type) {
    case "boolean":
      return !entry.default;
    case "integer":
    case "number":
      return entry.default === entry.min ? (entry.type === "integer" ? entry.max : entry.min + (entry.below - entry.min) / 2) : entry.min;
    case "string":
      return `${entry.default ?? ""}other`;
    case "string[]":
      return ["other"];
    case "enum":
      return entry.values.find((v) => v !== entry.default);
  }
}

function withSetting(name: string, value: unknown): Settings {
  const entry = schema[name]!;
  if (entry.group) return { ...DEFAULT_SETTINGS, thumbor: { ...DEFAULT_SETTINGS.thumbor, [name]: value } };
  return { ...DEFAULT_SETTINGS, [name]: value };
}

const plans: TransformPlan[] = [
  { ...basePlan("images/cat.jpg", 80), width: 300, height: 200, format: "webp" },
  { ...basePlan("images/cat.jpg", 80), width: 300, height: 200, smart: true, format: "jpeg" },
];

test("the settings marked variantKey are exactly those that change a variant's key", (t) => {
  const keys = (settings: Settings) => plans.map((p) => variantKey(p, settings));
  const before = keys(DEFAULT_SETTINGS);
  const changing = Object.keys(schema).filter((name) => {
    const after = keys(withSetting(name, otherValue(schema[name]!)));
    return after.some((key, i) => key !== before[i]);
  });
  const marked = Object.keys(schema).filter((name) => schema[name]!.variantKey);
  t.deepEqual(changing, marked);
  t.true(marked.length > 0);
});

test("a setting baked from infrastructure has an infrastructure argument of the same name, type, default and bounds", (t) => {
  const baked = Object.entries(schema).filter(([, entry]) => entry.bakedFromInfra);
  t.true(baked.length > 0);
  for (const [name, entry] of baked) {
    const infra = (INFRA_SCHEMA as Record<string, SchemaEntry>)[name];
    if (!infra) return t.fail(`${name} has no infrastructure argument`);
    const { bakedFromInfra: _baked, readBy: _readers, ...rest } = entry;
    t.deepEqual(rest, infra, name);
  }
});
