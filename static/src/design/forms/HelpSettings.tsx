// The form's public side beyond its fields, in the form's properties: publishing its records as a
// help center (the ``help`` block) and, on a form with a public intake side, suggesting a help
// center's articles while visitors fill the intake page (``public.suggest``) — chosen from the
// form's fields by their labels, as Zendesk's and Jiandaoyun's settings do, never as JSON.
import { Alert, Form, Select, Switch, Typography } from "antd";
import { useLang } from "../../i18n";
import { label, useOverview } from "../data";
import { firstHelp, helpOf, HELP_SLOTS, MAX_FACETS, MAX_SUGGEST_FIELDS, suggestOf, SUGGEST_TYPES, withHelp, withSuggest, type DesignerState, type HelpBlock } from "./model";
import type { Edit } from "./Properties";
import { fieldChoices } from "./choices";

export function HelpSettings({ app, state, edit }: { app: string; state: DesignerState; edit: Edit }) {
  const { t, lang } = useLang();
  const overview = useOverview(app);
  const help = helpOf(state.form);
  const suggest = suggestOf(state.form);
  const hasPublic = Boolean((state.form as Record<string, unknown>).public);
  const choices = (types: readonly string[]) => fieldChoices(state, types, lang);
  const setHelp = (next: HelpBlock | undefined) => edit({ ...state, form: withHelp(state.form, next) }, "form:help");
  const first = firstHelp(state);
  const shownField = help ? state.fields.find((f) => f.body.key === help.shown_when.field) : undefined;
  const forms = (overview.data ?? []).filter((d) => d.kind === "form").map((d) => ({ value: d.key, label: label(d.name, lang, d.key) }));
  return (
    <>
      <Typography.Title level={5} style={{ marginTop: 8 }}>
        {t("design.form.help")}
      </Typography.Title>
      <Form.Item label={t("design.form.help.on")} extra={t("design.form.help.on.extra", { app })}>
        <Switch
          checked={Boolean(help)}
          disabled={!help && !first}
          onChange={(on) => setHelp(on && first ? first : undefined)}
          aria-label={t("design.form.help.on")}
          data-testid="design-help-on"
        />
      </Form.Item>
      {!help && !first && <Alert type="info" showIcon title={t("design.form.help.needs")} style={{ marginBottom: 12 }} />}
      {help && (
        <div data-testid="design-help">
          <Form.Item label={t("design.form.help.title")} required>
            <Select aria-label={t("design.form.help.title")} value={help.title} options={choices(HELP_SLOTS.title)} onChange={(v: string) => setHelp({ ...help, title: v })} />
          </Form.Item>
          <Form.Item label={t("design.form.help.summary")}>
            <Select
              aria-label={t("design.form.help.summary")}
              allowClear
              value={help.summary}
              options={choices(HELP_SLOTS.summary)}
              onChange={(v?: string) => {
                const { summary: _summary, ...rest } = help;
                setHelp(v ? { ...rest, summary: v } : rest);
              }}
            />
          </Form.Item>
          <Form.Item label={t("design.form.help.body")} required>
            <Select aria-label={t("design.form.help.body")} value={help.body} options={choices(HELP_SLOTS.body)} onChange={(v: string) => setHelp({ ...help, body: v })} />
          </Form.Item>
          <Form.Item label={t("design.form.help.facets")} extra={t("design.form.help.facets.extra", { max: MAX_FACETS })}>
            <Select
              mode="multiple"
              aria-label={t("design.form.help.facets")}
              value={help.facets ?? []}
              maxCount={MAX_FACETS}
              options={choices(HELP_SLOTS.facets)}
              onChange={(v: string[]) => setHelp({ ...help, facets: v })}
            />
          </Form.Item>
          <Form.Item label={t("design.form.help.shown")} required extra={t("design.form.help.shown.extra")}>
            <Select
              aria-label={t("design.form.help.shown")}
              value={help.shown_when.field}
              options={choices(HELP_SLOTS.shown)}
              onChange={(v: string) => setHelp({ ...help, shown_when: { field: v, values: [] } })}
              data-testid="design-help-shown-field"
            />
            <Select
              mode="multiple"
              aria-label={t("design.form.help.shown_values")}
              style={{ marginTop: 8 }}
              value={help.shown_when.values}
              options={(shownField?.body.options ?? []).map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
              onChange={(v: string[]) => setHelp({ ...help, shown_when: { ...help.shown_when, values: v } })}
              data-testid="design-help-shown-values"
            />
          </Form.Item>
        </div>
      )}
      {hasPublic && (
        <>
          <Typography.Title level={5}>{t("design.form.suggest")}</Typography.Title>
          <Form.Item label={t("design.form.suggest.form")} extra={t("design.form.suggest.extra")}>
            <Select
              aria-label={t("design.form.suggest.form")}
              allowClear
              value={suggest?.form}
              options={forms}
              onChange={(v?: string) => {
                const from = suggest?.from ?? choices(SUGGEST_TYPES).slice(0, 2).map((c) => c.value);
                edit({ ...state, form: withSuggest(state.form, v ? { form: v, from } : undefined) }, "form:suggest");
              }}
              data-testid="design-suggest-form"
            />
          </Form.Item>
          {suggest && (
            <Form.Item label={t("design.form.suggest.from")} required>
              <Select
                mode="multiple"
                aria-label={t("design.form.suggest.from")}
                value={suggest.from}
                maxCount={MAX_SUGGEST_FIELDS}
                options={choices(SUGGEST_TYPES)}
                onChange={(v: string[]) => edit({ ...state, form: withSuggest(state.form, { ...suggest, from: v }) }, "form:suggest")}
              />
            </Form.Item>
          )}
        </>
      )}
    </>
  );
}
