// The dialog changing one's own password: the current one, the new one twice. Its form loads
// when the dialog first opens (the header's button is in every page; the form library is not).
import { App, Form, Input, Modal } from "antd";
import { useState } from "react";
import { api, problemText } from "./api";
import { useLang } from "./i18n";

export default function ChangePasswordDialog({ open, setOpen }: { open: boolean; setOpen: (open: boolean) => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm();
  return (
    <Modal
      open={open}
      title={t("me.password")}
      onCancel={() => setOpen(false)}
      onOk={() => form.submit()}
      okButtonProps={{ loading: busy }}
      okText={t("common.ok")}
      cancelText={t("common.cancel")}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        preserve={false}
        onFinish={async (values: { current: string; next: string }) => {
          setBusy(true);
          try {
            await api("/me/password", { method: "PUT", body: { current_password: values.current, new_password: values.next } });
            message.success(t("me.password_changed"));
            setOpen(false);
          } catch (error) {
            message.error(problemText(error));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Form.Item name="current" label={t("me.current_password")} rules={[{ required: true }]}>
          <Input.Password autoComplete="current-password" data-testid="password-current" />
        </Form.Item>
        <Form.Item name="next" label={t("me.new_password")} rules={[{ required: true }]}>
          <Input.Password autoComplete="new-password" data-testid="password-new" />
        </Form.Item>
        <Form.Item
          name="again"
          label={t("me.new_password_again")}
          dependencies={["next"]}
          rules={[
            { required: true },
            ({ getFieldValue }) => ({
              validator: (_, value) => (!value || value === getFieldValue("next") ? Promise.resolve() : Promise.reject(new Error(t("me.passwords_differ")))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="password-again" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
