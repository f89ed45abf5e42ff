// The apps' icons: an antd icon by name, or an emoji.
import {
  AppstoreOutlined,
  AuditOutlined,
  BarChartOutlined,
  CustomerServiceOutlined,
  DatabaseOutlined,
  FileDoneOutlined,
  SafetyCertificateOutlined,
  ScheduleOutlined,
  ToolOutlined,
} from "@ant-design/icons";
import type { ComponentType } from "react";

const ICON_COMPONENTS: Record<string, ComponentType> = {
  AppstoreOutlined,
  AuditOutlined,
  BarChartOutlined,
  CustomerServiceOutlined,
  DatabaseOutlined,
  FileDoneOutlined,
  SafetyCertificateOutlined,
  ScheduleOutlined,
  ToolOutlined,
};

export const ICONS = Object.keys(ICON_COMPONENTS);

/** An app's icon: one of ICONS, else the text itself (an emoji), else the default. */
export function AppIcon({ name }: { name?: string | null }) {
  if (name && ICON_COMPONENTS[name]) {
    const Icon = ICON_COMPONENTS[name];
    return <Icon />;
  }
  if (name) return <span aria-hidden>{name}</span>;
  return <AppstoreOutlined />;
}

