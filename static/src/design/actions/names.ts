// The names an action's reading uses: the form's fields and options by label, people, groups and
// roles from the directory, the app's forms and flows by name.
import { useLang } from "../../i18n";
import { label, useOverview } from "../data";
import { useDirectory, type FormField } from "../flows/data";
import type { Names } from "./model";

export function useActionNames(app: string, fields: FormField[]): Names {
  const { lang } = useLang();
  const overview = useOverview(app);
  const directory = useDirectory();
  const found = (key: string) => fields.find((f) => f.key === key);
  return {
    field: (key) => {
      const field = found(key);
      return field ? label(field.label, lang, key) : undefined;
    },
    option: (key, value) => {
      const option = found(key)?.options?.find((o) => o.value === value);
      return option ? label(option.label, lang, String(value)) : undefined;
    },
    user: (id) => directory.users.data?.find((u) => u.id === id)?.display_name,
    group: (key) => directory.groups.data?.find((g) => g.key === key)?.name,
    role: (key) => directory.roles.data?.find((r) => r.key === key)?.name,
    form: (key) => label(overview.data?.find((d) => d.kind === "form" && d.key === key)?.name, lang, key),
    flow: (key) => label(overview.data?.find((d) => d.kind === "flow" && d.key === key)?.name, lang, key),
  };
}
