// Public intake links of a form (外部填报链接): which fields a visitor may be asked for, which must
// be, and the address to share. The server checks the same rules (records/intake.py); the
// designer says them before anything is sent.
import type { FormDefinition, Text } from "./types";

/** Why a field cannot be put before a visitor. */
export type NotOffered = "computed" | "read_only" | "people" | "no_display";

export interface IntakeChoice {
  key: string;
  label: Text | undefined;
  type: string;
  /** A visitor must be asked for it: required, with no default. */
  needed: boolean;
  /** Why it cannot be offered (a visitor cannot fill it), if so. */
  not_offered?: NotOffered;
  /** A reference a visitor chooses by this field of the referenced records: anyone with the
   * link can look up that field's values. */
  shows?: { form: string; field: string };
}

/** Fields the platform writes itself. */
const COMPUTED = new Set(["formula", "serial"]);
/** Fields naming people or groups: the staff directory is never shown to visitors. */
const PEOPLE = new Set(["user", "group"]);

/** The form's top-level fields as choices for a link, in the form's order. */
export function intakeChoices(form: Pick<FormDefinition, "fields">): IntakeChoice[] {
  return form.fields
    .filter((f) => typeof f.key === "string" && f.key !== "")
    .map((f) => {
      const computed = COMPUTED.has(f.type);
      const display = f.type === "reference" ? f.reference?.display : undefined;
      const not_offered: NotOffered | undefined = computed
        ? "computed"
        : f.read_only
          ? "read_only"
          : PEOPLE.has(f.type)
            ? "people"
            : f.type === "reference" && !display
              ? "no_display"
              : undefined;
      const needed = f.required === true && !computed && (f.default === undefined || f.default === null);
      const shows = not_offered === undefined && display && f.reference ? { shows: { form: f.reference.form, field: display } } : {};
      return { key: f.key, label: f.label, type: f.type, needed, ...(not_offered ? { not_offered } : {}), ...shows };
    });
}

/** What a new link asks for at first: the fields a visitor must be asked for. */
export function firstExposed(choices: readonly IntakeChoice[]): string[] {
  return choices.filter((c) => c.needed && c.not_offered === undefined).map((c) => c.key);
}

/** The needed fields a link leaves out (the server refuses such a link), and the needed fields a
 * visitor cannot fill (the form cannot have a public link until they get a default). */
export function exposureGaps(choices: readonly IntakeChoice[], exposed: readonly string[]): { missing: string[]; unfillable: string[] } {
  const chosen = new Set(exposed);
  const needed = choices.filter((c) => c.needed);
  return {
    missing: needed.filter((c) => c.not_offered === undefined && !chosen.has(c.key)).map((c) => c.key),
    unfillable: needed.filter((c) => c.not_offered !== undefined).map((c) => c.key),
  };
}

/** The fields chosen, in the form's order (a link asks in that order). */
export function inFormOrder(choices: readonly IntakeChoice[], exposed: Iterable<string>): string[] {
  const chosen = new Set(exposed);
  return choices.filter((c) => chosen.has(c.key)).map((c) => c.key);
}

/** The whole address of a link's page (`path` as the server gives it, `/intake/{token}`). */
export function linkAddress(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, "")}${path.startsWith("/") ? "" : "/"}${path}`;
}
