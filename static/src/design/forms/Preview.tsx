// The live preview: the draft compiled by the server and drawn by the runtime's own renderer, at
// desktop or phone width, filled in by the designer and checked with the same JSON Schema.
import { DesktopOutlined, MobileOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { Alert, Button, Segmented, Space, Spin } from "antd";
import { useMemo, useState } from "react";
import { ApiError, problemText, type FormSchema } from "../../api";
import { client, data as answered } from "../../client";
import { defaults, localErrors, RecordForm } from "../../forms";
import { useLang } from "../../i18n";
import type { Body } from "../data";

export const PHONE_WIDTH = 390;

export function usePreviewSchema(app: string, body: Body) {
  const { lang } = useLang();
  const key = String(body.key ?? "");
  // the body as text, once per body: react-query hashes a key on every render, and a large form's
  // body as an object is slow to hash (the canvas renders this on every drag and drop)
  const text = useMemo(() => JSON.stringify(body), [body]);
  return useQuery({
    queryKey: ["design", "preview", app, key, lang, text],
    queryFn: async () =>
      answered(
        await client.POST("/api/v1/apps/{app}/forms/{form}/preview", {
          params: { path: { app, form: key } },
          body: { body, lang },
        }),
      ) as unknown as FormSchema,
    placeholderData: (previous) => previous, // keep drawing the last good form while it compiles
    retry: false,
    staleTime: Infinity,
  });
}

export type Sample = Record<string, unknown> | null;

/** ``values`` is what the designer typed into the preview (``null``: the defaults); the designer
 * keeps it, so formulas can be computed against it. */
export function Preview({ app, body, values, setValues }: { app: string; body: Body; values: Sample; setValues: (next: Sample) => void }) {
  const { t } = useLang();
  const [width, setWidth] = useState<"desktop" | "phone">("desktop");
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const schema = usePreviewSchema(app, body);
  const drawn = schema.data;
  const data = values ?? (drawn ? defaults(drawn) : {});
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="design-preview">
      <Space wrap>
        <Segmented
          value={width}
          onChange={(v) => setWidth(v as "desktop" | "phone")}
          options={[
            { value: "desktop", icon: <DesktopOutlined />, label: t("design.form.preview.desktop") },
            { value: "phone", icon: <MobileOutlined />, label: t("design.form.preview.phone") },
          ]}
          data-testid="design-preview-width"
        />
        <Button
          onClick={() => drawn && setErrors(localErrors(drawn, data))}
          disabled={!drawn}
          data-testid="design-preview-check"
        >
          {t("design.form.preview.check")}
        </Button>
        <Button
          onClick={() => {
            setValues(null);
            setErrors(undefined);
          }}
        >
          {t("design.form.preview.reset")}
        </Button>
      </Space>
      {schema.isError && (
        <Alert
          type="warning"
          showIcon
          message={t("design.form.preview.broken")}
          description={schema.error instanceof ApiError ? schema.error.message : problemText(schema.error)}
        />
      )}
      {!drawn && schema.isFetching && <Spin />}
      {drawn && (
        <div
          style={{
            width: width === "phone" ? PHONE_WIDTH : "100%",
            maxWidth: "100%",
            margin: width === "phone" ? "0 auto" : undefined,
            border: width === "phone" ? "8px solid #1f1f1f" : undefined,
            borderRadius: width === "phone" ? 24 : undefined,
            padding: 12,
            background: "#fff",
          }}
          data-testid={`design-preview-${width}`}
        >
          <RecordForm app={app} schema={drawn} data={data} onChange={setValues} errors={errors} idPrefix="preview" />
        </div>
      )}
    </Space>
  );
}
