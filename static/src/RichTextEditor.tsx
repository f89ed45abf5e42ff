// A rich text field edited as formatted text, as Jiandaoyun's and Feishu's forms do: a bar of
// tools above the text (bold, lists, headings, quotes…) and their usual shortcuts; the field
// keeps the editor's HTML. Loaded only when a form draws a rich text field.
import {
  BoldOutlined,
  FontSizeOutlined,
  ItalicOutlined,
  MessageOutlined,
  OrderedListOutlined,
  RedoOutlined,
  StrikethroughOutlined,
  UnderlineOutlined,
  UndoOutlined,
  UnorderedListOutlined,
} from "@ant-design/icons";
import { EditorContent, useEditor, useEditorState, type Editor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { Button, Tooltip } from "antd";
import { useEffect, type ReactNode } from "react";
import { useLang } from "./i18n";
import "./richText.css";
import { fieldValue, shortcut, showValue, TOOLS, type Tool } from "./richText";

const ICONS: Record<string, ReactNode> = {
  "rich.bold": <BoldOutlined />,
  "rich.italic": <ItalicOutlined />,
  "rich.underline": <UnderlineOutlined />,
  "rich.strike": <StrikethroughOutlined />,
  "rich.heading": <FontSizeOutlined />,
  "rich.bullets": <UnorderedListOutlined />,
  "rich.numbers": <OrderedListOutlined />,
  "rich.quote": <MessageOutlined />,
  "rich.undo": <UndoOutlined />,
  "rich.redo": <RedoOutlined />,
};

const MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

function run(editor: Editor, tool: Tool): void {
  const chain = editor.chain().focus();
  if (tool.command === "toggleHeading") chain.toggleHeading({ level: 3 }).run();
  else chain[tool.command]().run();
}

export interface RichTextEditorProps {
  id: string;
  label: string;
  value: unknown;
  disabled?: boolean;
  onChange: (value: string | undefined) => void;
  onBlur?: () => void;
}

export default function RichTextEditor(props: RichTextEditorProps) {
  const { id, label, value, disabled, onChange, onBlur } = props;
  const { t } = useLang();
  const editor = useEditor({
    // made once the field is on the page, not while React draws it: an editor made in a drawing
    // that commits late (a transition, a busy machine) is put away by the library meanwhile and
    // would be used destroyed (its schema gone: "reading 'cached'" on getHTML)
    immediatelyRender: false,
    extensions: [StarterKit.configure({ heading: { levels: [3] }, link: { openOnClick: false } })],
    content: typeof value === "string" ? value : "",
    editable: !disabled,
    editorProps: {
      attributes: {
        id,
        role: "textbox",
        "aria-multiline": "true",
        "aria-label": label,
        class: "tangram-rich-text-area",
      },
    },
    onUpdate: ({ editor: changed }) => onChange(fieldValue(changed.getHTML(), changed.isEmpty)),
    onBlur: () => onBlur?.(),
  });
  // which tools are on where the cursor is, and whether history can go back or forth
  const state = useEditorState({
    editor,
    selector: ({ editor: shown }) =>
      shown &&
      Object.fromEntries(
        TOOLS.map((tool) => [
          tool.key,
          {
            on: tool.active ? shown.isActive(tool.active.name, tool.active.attributes) : false,
            can: tool.command === "undo" ? shown.can().undo() : tool.command === "redo" ? shown.can().redo() : true,
          },
        ]),
      ),
  });
  // a value the form sets (a reset, another field's rule) is shown; the editor's own is not put back
  useEffect(() => showValue(editor, value), [editor, value]);
  useEffect(() => {
    if (editor && !editor.isDestroyed) editor.setEditable(!disabled);
  }, [editor, disabled]);
  return (
    <div className={`tangram-rich-text${disabled ? " tangram-rich-text-disabled" : ""}`} data-testid={`rich-text-${id}`}>
      {!disabled && (
        <div className="tangram-rich-text-bar" role="toolbar" aria-label={t("rich.tools", { field: label })}>
          {TOOLS.map((tool) => {
            const name = t(tool.key);
            const tip = tool.keys ? `${name} (${shortcut(tool.keys, MAC)})` : name;
            const on = state?.[tool.key]?.on ?? false;
            return (
              <Tooltip key={tool.key} title={tip} mouseEnterDelay={0.6}>
                <Button
                  type="text"
                  size="small"
                  style={on ? { background: "#e8f0fc", color: "#1961d8" } : undefined}
                  icon={ICONS[tool.key]}
                  aria-label={name}
                  aria-pressed={tool.active ? on : undefined}
                  disabled={!editor || state?.[tool.key]?.can === false}
                  // the text keeps its cursor and selection while a tool is pressed
                  onMouseDown={(event) => event.preventDefault()}
                  onClick={() => editor && !editor.isDestroyed && run(editor, tool)}
                  data-testid={`rich-${tool.key.slice(5)}`}
                />
              </Tooltip>
            );
          })}
        </div>
      )}
      <EditorContent editor={editor} />
    </div>
  );
}
