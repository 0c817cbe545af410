// Reads cases as JSON on stdin and prints each case's mask (client/js/raster.js) as base64.
import { readFileSync } from "node:fs";
import { newMask, paintStroke, fillPolygon } from "../../client/js/raster.js";

const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ width, height, ops }) => {
  const mask = newMask(width, height);
  for (const op of ops) {
    if (op.kind === "stroke") paintStroke(mask, width, height, op.points, op.radius, op.value);
    else fillPolygon(mask, width, height, op.points, op.value);
  }
  return Buffer.from(mask.buffer).toString("base64");
});
process.stdout.write(JSON.stringify(out));
