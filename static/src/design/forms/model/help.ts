// The form's public help center (its ``help`` block) and the intake page's suggestions
// (``public.suggest``), as the designer edits them without JSON: which fields can fill each slot,
// a first block when the designer turns the help center on, and both kept in step when a field is
// renamed or removed.
import type { DesignerState, FieldNode, FormBody } from "./types";

export interface HelpBlock {
  title: string;
  summary?: string;
  body: string;
  facets?: string[];
  shown_when: { field: string; values: string[] };
}

export interface SuggestBlock {
  form: string;
  from: string[];
}

/** The field types each slot of the help block takes (the form engine's ``_HELP_SLOTS``). */
export const HELP_SLOTS = {
  title: ["text"],
  summary: ["text", "textarea"],
  body: ["textarea", "rich_text"],
  facets: ["select", "radio"],
  shown: ["select", "radio"],
} as const;
/** What ``public.suggest.from`` takes: the text fields. */
export const SUGGEST_TYPES = ["text", "textarea", "rich_text"] as const;
export const MAX_FACETS = 4;
export const MAX_SUGGEST_FIELDS = 4;

/** The top-level fields of ``types``. */
export function fieldsOf(state: DesignerState, types: readonly string[]): FieldNode[] {
  return state.fields.filter((f) => types.includes(f.body.type));
}

export function helpOf(form: FormBody): HelpBlock | undefined {
  const block = (form as Record<string, unknown>).help;
  return block && typeof block === "object" ? (block as HelpBlock) : undefined;
}

export function suggestOf(form: FormBody): SuggestBlock | undefined {
  const block = (form as Record<string, unknown>).public as { suggest?: unknown } | undefined;
  const suggest = block && typeof block === "object" ? block.suggest : undefined;
  return suggest && typeof suggest === "object" ? (suggest as SuggestBlock) : undefined;
}

/** A first help block for the form: the title field (else the first text field), the first
 * textarea as the summary, the first rich text (else textarea) as the body, its choice fields
 * as facets (at most four, the one deciding what is shown left out) and, as that one, a choice
 * field named status (else the last choice field) showing its last option. ``null`` when the form
 * lacks what a help center needs: a text field, a body and a choice field. */
export function firstHelp(state: DesignerState): HelpBlock | null {
  const options = (state.form.options ?? {}) as Record<string, unknown>;
  const texts = fieldsOf(state, HELP_SLOTS.title);
  const title = texts.find((f) => f.body.key === options.title_field) ?? texts[0];
  const rich = fieldsOf(state, ["rich_text"])[0];
  const areas = fieldsOf(state, ["textarea"]);
  const body = rich ?? areas[0];
  const choices = fieldsOf(state, HELP_SLOTS.shown).filter((f) => (f.body.options ?? []).length > 0);
  const shown = choices.find((f) => f.body.key === "status") ?? choices[choices.length - 1];
  if (!title || !body || !shown) return null;
  const summary = areas.find((f) => f !== body);
  const values = shown.body.options ?? [];
  return {
    title: title.body.key,
    ...(summary ? { summary: summary.body.key } : {}),
    body: body.body.key,
    facets: choices
      .filter((f) => f !== shown)
      .slice(0, MAX_FACETS)
      .map((f) => f.body.key),
    shown_when: { field: shown.body.key, values: [values[values.length - 1].value] },
  };
}

/** The form with its help block replaced (``undefined``: removed). */
export function withHelp(form: FormBody, help: HelpBlock | undefined): FormBody {
  const next = { ...form } as Record<string, unknown>;
  if (help === undefined) delete next.help;
  else next.help = help;
  return next as FormBody;
}

/** The form with its intake suggestions replaced (``undefined``: removed); a form without a
 * ``public`` block is returned as it is (suggestions belong to its public side). */
export function withSuggest(form: FormBody, suggest: SuggestBlock | undefined): FormBody {
  const block = (form as Record<string, unknown>).public as Record<string, unknown> | undefined;
  if (!block || typeof block !== "object") return form;
  const next = { ...block };
  if (suggest === undefined) delete next.suggest;
  else next.suggest = suggest;
  return { ...form, public: next } as FormBody;
}

/** The form with its help block and intake suggestions following the field ``old``: renamed to
 * ``key``, or, when ``key`` is null (removed), dropped where that is optional (the summary, a
 * facet, a suggesting field); the required slots stay, for publishing to name them. A form
 * without the blocks is returned as it is. */
export function withHelpFields(form: FormBody, old: string, key: string | null): FormBody {
  let next = form;
  const help = helpOf(form);
  if (help) {
    const changed: HelpBlock = { ...help, shown_when: { ...help.shown_when } };
    let touched = false;
    for (const slot of ["title", "body"] as const) {
      if (changed[slot] === old && key !== null) {
        changed[slot] = key;
        touched = true;
      }
    }
    if (changed.summary === old) {
      touched = true;
      if (key !== null) changed.summary = key;
      else delete changed.summary;
    }
    if (changed.facets?.includes(old)) {
      touched = true;
      changed.facets = key !== null ? changed.facets.map((k) => (k === old ? key : k)) : changed.facets.filter((k) => k !== old);
    }
    if (changed.shown_when.field === old && key !== null) {
      changed.shown_when.field = key;
      touched = true;
    }
    if (touched) next = withHelp(next, changed);
  }
  const suggest = suggestOf(next);
  if (suggest?.from.includes(old)) {
    const from = key !== null ? suggest.from.map((k) => (k === old ? key : k)) : suggest.from.filter((k) => k !== old);
    next = withSuggest(next, { ...suggest, from });
  }
  return next;
}
