import { buildQuery } from "./api.js";

function test(name, body) {
  try {
    body();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`not ok - ${name}: ${e.message}`);
  }
}

test("buildQuery skips empty values", () => {
  const qs = buildQuery({ a: 1, b: undefined, c: "x y" });
  if (qs !== "a=1&c=x%20y") throw new Error(qs);
});
