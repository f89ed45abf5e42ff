// A form's top-level fields of some types as a select's options, by their labels.
import { label } from "../data";
import { fieldsOf, type DesignerState } from "./model";

export function fieldChoices(state: DesignerState, types: readonly string[], lang: string): { value: string; label: string }[] {
  return fieldsOf(state, types).map((f) => ({ value: f.body.key, label: label(f.body.label, lang, f.body.key) }));
}
