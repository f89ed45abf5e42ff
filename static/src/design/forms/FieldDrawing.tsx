// A card's body on the canvas: the field drawn by the runtime's own renderer (the registry and
// SchemaField a record's form draws with) from the schema the server compiled, shown and not used:
// inert (no pointer, no focus) and hidden from assistive technology (the card's handle names the
// field).
import type { Registry, RJSFSchema, UiSchema } from "@rjsf/utils";
import { memo, useMemo } from "react";
import { FormField } from "../../formField";
import { resolveToken } from "../../tokens";
import type { Drawing } from "./drawing";
import "./canvas.css";

/** Drawn again only when its compiled field changed (``drawingsOf`` keeps an unchanged drawing). */
export const FieldDrawing = memo(function FieldDrawing({ registry, drawing }: { registry: Registry; drawing: Drawing }) {
  // a new record's value: the default, ``$today`` and ``$now`` as the form shows them
  const value = useMemo(() => (drawing.info.default == null ? undefined : resolveToken(drawing.info.default)), [drawing]);
  return (
    <div className="tangram-canvas-drawing" inert aria-hidden data-testid="design-field-drawing">
      <FormField
        registry={registry}
        name={drawing.key}
        schema={drawing.schema as RJSFSchema}
        uiSchema={drawing.uiSchema as UiSchema | undefined}
        required={drawing.required}
        value={value}
        parent={drawing.parent}
      />
    </div>
  );
});
