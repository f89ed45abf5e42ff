// The app frame's search box: the words go to the app's search page (/apps/:app/search?q=).
import { Input } from "antd";
import { useNavigate } from "react-router-dom";
import { useLang } from "../i18n";

export function HeaderSearch({ app }: { app: string }) {
  const { t } = useLang();
  const navigate = useNavigate();
  return (
    <Input.Search
      allowClear
      maxLength={100}
      placeholder={t("search.placeholder")}
      aria-label={t("search.placeholder")}
      onSearch={(value) => {
        if (value.trim()) navigate(`/apps/${app}/search?${new URLSearchParams({ q: value.trim() }).toString()}`);
      }}
      style={{ width: 260 }}
      data-testid="app-search"
    />
  );
}
