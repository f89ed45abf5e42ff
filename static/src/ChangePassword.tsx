// One's own password, changed from the header: the current one, the new one twice. The server
// checks the new one's strength and ends the account's other sessions.
import { KeyOutlined } from "@ant-design/icons";
import { Button } from "antd";
import { lazy, Suspense, useState } from "react";
import { useLang } from "./i18n";

const ChangePasswordDialog = lazy(() => import("./ChangePasswordDialog"));

export function ChangePassword({ compact }: { compact: boolean }) {
  const { t } = useLang();
  const [open, setOpen] = useState(false);
  // the dialog loads when first opened and stays (its closing animation runs)
  const [opened, setOpened] = useState(false);
  return (
    <>
      <Button
        size="small"
        icon={<KeyOutlined />}
        onClick={() => {
          setOpened(true);
          setOpen(true);
        }}
        aria-label={t("me.password")}
        data-testid="change-password"
      >
        {compact ? null : t("me.password")}
      </Button>
      {opened && (
        <Suspense fallback={null}>
          <ChangePasswordDialog open={open} setOpen={setOpen} />
        </Suspense>
      )}
    </>
  );
}
