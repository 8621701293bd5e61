// HTTP helpers for the dashboard.
const BASE_URL = "/api/v1";

function buildQuery(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

async function fetchJson(path, params = {}) {
  const qs = buildQuery(params);
  const res = await fetch(`${BASE_URL}${path}${qs ? "?" + qs : ""}`);
  if (!res.ok) {
    throw new Error(`request failed: ${res.status}`);
  }
  return res.json();
}

const debounce = (fn, ms) => {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
};

export { buildQuery, fetchJson, debounce };
