// One field of a compiled form drawn without a form around it, by the very renderer RecordForm uses:
// rjsf's registry (its fields and templates, the antd theme, THEME's widgets and templates) built
// by rjsf's own Form.getRegistry, and its SchemaField. For drawing many fields that are shown, not
// filled in (the form designer's canvas): one registry serves them all, where a Form per field would
// build its own state, schema utilities and registry.
import CoreForm from "@rjsf/core";
import { Theme } from "@rjsf/antd";
import { createSchemaUtils, toFieldPathId, type Registry, type RJSFSchema, type UiSchema } from "@rjsf/utils";
import { useMemo } from "react";
import { THEME, validator, type FormContext } from "./forms";
import { useLang } from "./i18n";
import { rjsfTranslator } from "./rjsfStrings";

/** The registry RecordForm's Form builds for ``form`` of ``app`` in the user's language. The theme
 * is merged as rjsf's ``withTheme`` merges it for the antd Form. */
export function useFieldRegistry(app: string, form: string): Registry {
  const { lang } = useLang();
  return useMemo(() => {
    const schema: RJSFSchema = { type: "object" };
    const props = {
      schema,
      validator,
      widgets: { ...Theme.widgets, ...THEME.widgets },
      templates: {
        ...Theme.templates,
        ...THEME.templates,
        ButtonTemplates: { ...Theme.templates?.ButtonTemplates, ...THEME.templates.ButtonTemplates },
      },
      formContext: { app, form } satisfies FormContext,
      translateString: rjsfTranslator(lang),
      idPrefix: "canvas",
    };
    return CoreForm.getRegistry(props, schema, createSchemaUtils(validator, schema));
  }, [app, form, lang]);
}

const ignore = () => undefined;

/** The field ``name`` (its JSON Schema and UI schema as the server compiled them) drawn as a
 * record's form draws it: label, required mark, help and widget. ``parent`` is the path it is
 * drawn under (its inputs' ids follow it). */
export function FormField(props: {
  registry: Registry;
  name: string;
  schema: RJSFSchema;
  uiSchema: UiSchema | undefined;
  required: boolean;
  value: unknown;
  parent: string[];
}) {
  const { registry, name } = props;
  const { SchemaField } = registry.fields;
  return (
    <SchemaField
      name={name}
      schema={props.schema}
      uiSchema={props.uiSchema ?? {}}
      fieldPathId={toFieldPathId(name, registry.globalFormOptions, props.parent)}
      formData={props.value}
      required={props.required}
      onChange={ignore}
      onBlur={ignore}
      onFocus={ignore}
      registry={registry}
      disabled={false}
      readonly={false}
    />
  );
}
