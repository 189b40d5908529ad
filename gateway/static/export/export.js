// The export tool: a token from the access key, a preview of the first page, downloads.
// Vanilla JavaScript, no dependencies; every request goes to this page's own origin.
"use strict";

(function () {
  const AUTHENTICATE_URL = "/api/v2/authenticate";
  const PREVIEW_SIZE = "20";

  const $ = (id) => document.getElementById(id);
  const form = $("export-form");
  const organizationInput = $("organization-id");
  const accessKeyInput = $("access-key");
  const tokenInput = $("token");
  const reportingDays = $("reporting-days");
  const startInput = $("start-time");
  const endInput = $("end-time");
  const statusRegion = $("status");
  const errorRegion = $("error");
  const previewSection = $("preview-section");
  const table = $("preview-table");
  const columnBoxes = Array.from(document.querySelectorAll('input[name="column"]'));

  // A problem the person can fix in the form: the message, and the field to go back to.
  class FormError extends Error {
    constructor(message, field) {
      super(message);
      this.field = field;
    }
  }

  let busy = false;

  function setStatus(text) {
    statusRegion.textContent = text;
  }

  function clearProblems() {
    errorRegion.textContent = "";
    for (const field of form.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
    }
    for (const note of form.querySelectorAll(".field-error")) {
      const field = document.querySelector(`[aria-describedby~="${note.id}"]`);
      if (field) {
        const rest = field.getAttribute("aria-describedby").split(" ").filter((id) => id !== note.id);
        field.setAttribute("aria-describedby", rest.join(" "));
      }
      note.remove();
    }
  }

  // The message in the alert region (announced), and beside the field it is about (seen).
  function showProblem(error) {
    setStatus("");
    errorRegion.textContent = error.message;
    if (error instanceof FormError && error.field) {
      const field = error.field;
      const note = document.createElement("p");
      note.className = "field-error";
      note.id = `${field.id}-error`;
      note.textContent = error.message;
      (field.closest(".field") || field.closest("fieldset")).append(note);
      const described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", described ? `${described} ${note.id}` : note.id);
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  // The API's {"error": "..."} message, or a plain description of the answer.
  async function apiMessage(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") {
        return body.error;
      }
    } catch (ignored) {
      // not JSON: described below
    }
    return `The service answered ${response.status} ${response.statusText}`.trim() + ".";
  }

  async function send(url, options) {
    try {
      return await fetch(url, options);
    } catch (ignored) {
      throw new Error("Could not reach the service. Check your connection and try again.");
    }
  }

  // <input type="datetime-local"> gives 2025-11-01T08:00; the API wants 11/01/2025 08:00 AM.
  function legacyDateTime(value) {
    const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
    if (!match) {
      return null;
    }
    const [, year, month, day, hours, minutes] = match;
    const hour = Number(hours);
    const hour12 = String(hour % 12 || 12).padStart(2, "0");
    return `${month}/${day}/${year} ${hour12}:${minutes} ${hour < 12 ? "AM" : "PM"}`;
  }

  function selectedColumns() {
    return columnBoxes
      .filter((box) => box.checked)
      .map((box) => ({
        key: box.value,
        jsonKey: box.dataset.jsonKey,
        label: box.labels[0].textContent.trim(),
      }));
  }

  function organizationId() {
    const value = organizationInput.value.trim();
    if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
      throw new FormError("Enter your organization id (a number).", organizationInput);
    }
    return value;
  }

  // The export's query parameters, as the legacy API names them.
  function exportParameters() {
    const columns = selectedColumns();
    if (columns.length === 0) {
      throw new FormError("Tick at least one column.", columnBoxes[0]);
    }
    const params = new URLSearchParams();
    for (const column of columns) {
      params.append("column[]", column.key);
    }
    params.set("reporting_days", reportingDays.value);
    const reportType = form.querySelector('input[name="report_type"]:checked');
    params.set("report_type", reportType ? reportType.value : "all_meetings");
    for (const [name, input] of [["start_time", startInput], ["end_time", endInput]]) {
      if (input.value) {
        const text = legacyDateTime(input.value);
        if (text === null) {
          throw new FormError("Enter a complete date and time.", input);
        }
        params.set(name, text);
      }
    }
    return { params, columns };
  }

  async function authenticate() {
    const key = accessKeyInput.value.trim();
    if (!key) {
      throw new FormError("Enter your access key, or paste a token.", accessKeyInput);
    }
    const response = await send(AUTHENTICATE_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ access_key: key }),
    });
    if (!response.ok) {
      throw new FormError(await apiMessage(response), accessKeyInput);
    }
    const body = await response.json();
    tokenInput.value = body.token;
    accessKeyInput.value = "";
    setStatus("Token received; it is valid for 24 hours.");
    return body.token;
  }

  async function token() {
    // A pasted "Bearer <token>" works as well as the bare token.
    const pasted = tokenInput.value.trim().replace(/^bearer\s+/i, "");
    return pasted || authenticate();
  }

  function exportUrl(organization, params) {
    return `/api/v2/organizations/${encodeURIComponent(organization)}/export_meetings?${params}`;
  }

  function cellText(value) {
    if (value === null || value === undefined) {
      return "";
    }
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function renderPreview(columns, body) {
    const head = document.createElement("tr");
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = column.label;
      head.append(th);
    }
    table.tHead.replaceChildren(head);
    const rows = body.meetings.map((meeting) => {
      const tr = document.createElement("tr");
      for (const column of columns) {
        const td = document.createElement("td");
        td.textContent = cellText(meeting[column.jsonKey]);
        tr.append(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = columns.length;
      td.textContent = "No meetings match.";
      tr.append(td);
      rows.push(tr);
    }
    table.tBodies[0].replaceChildren(...rows);
    const meta = body.metadata;
    const summary =
      meta.total_count === 0
        ? "no meetings match"
        : `${body.meetings.length} of ${meta.total_count} ` +
          `meeting${meta.total_count === 1 ? "" : "s"} (page 1 of ${meta.total_pages})`;
    table.caption.textContent = `Preview: ${summary}`;
    previewSection.hidden = false;
    return summary;
  }

  async function preview() {
    previewSection.hidden = true; // a failed preview must not leave the last one standing
    const organization = organizationId();
    const { params, columns } = exportParameters();
    params.set("page", "1");
    params.set("per_page", PREVIEW_SIZE);
    const bearer = await token();
    setStatus("Loading the preview…");
    const response = await send(exportUrl(organization, params), {
      headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error(await apiMessage(response));
    }
    const summary = renderPreview(columns, await response.json());
    setStatus(`Preview ready: ${summary}.`);
  }

  function fileName(response, organization, format) {
    const disposition = response.headers.get("Content-Disposition") || "";
    const named = /filename="([^"]+)"/.exec(disposition);
    if (named) {
      return named[1];
    }
    const today = new Date().toISOString().slice(0, 10).replaceAll("-", "");
    return `meetings-${organization}-${today}.${format}`;
  }

  function sizeText(bytes) {
    if (bytes < 1024) {
      return `${bytes} bytes`;
    }
    const units = ["KB", "MB", "GB"];
    let size = bytes / 1024;
    let unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit += 1;
    }
    return `${size.toFixed(1)} ${units[unit]}`;
  }

  async function download(format) {
    const organization = organizationId();
    const { params } = exportParameters();
    params.set("format", format);
    const bearer = await token();
    setStatus(`Preparing the ${format.toUpperCase()} file…`);
    const response = await send(exportUrl(organization, params), {
      headers: { Authorization: `Bearer ${bearer}` },
    });
    if (!response.ok) {
      throw new Error(await apiMessage(response));
    }
    let blob;
    try {
      blob = await response.blob();
    } catch (ignored) {
      // The service ends a failed export without its last chunk: never save half a file.
      throw new Error("The download was interrupted before the end; no file was saved. Try again.");
    }
    const name = fileName(response, organization, format);
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    setStatus(`Downloaded ${name} (${sizeText(blob.size)}).`);
  }

  // One action at a time; problems go to the alert region, progress to the status region.
  async function run(action) {
    if (busy) {
      return;
    }
    busy = true;
    form.setAttribute("aria-busy", "true");
    clearProblems();
    try {
      await action();
    } catch (error) {
      showProblem(error);
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(preview);
  });
  $("get-token").addEventListener("click", () => run(authenticate));
  $("download-csv").addEventListener("click", () => run(() => download("csv")));
  $("download-json").addEventListener("click", () => run(() => download("json")));
  $("select-all").addEventListener("click", () => {
    for (const box of columnBoxes) {
      box.checked = true;
    }
  });
  $("select-none").addEventListener("click", () => {
    for (const box of columnBoxes) {
      box.checked = false;
    }
  });
  // A pasted token replaces any key: the key field is then not needed.
  tokenInput.addEventListener("input", () => {
    if (tokenInput.value.trim()) {
      accessKeyInput.removeAttribute("aria-invalid");
    }
  });
})();
