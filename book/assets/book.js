// The book's own fixes to the rendered pages, on every page (html_js_files in _config.yml,
// deferred: runs once the page is parsed). Each part names the reader problem it solves.
(function () {
  "use strict";

  // 1. The Colab setup cell (the first code cell of every chapter) has a long install URL:
  //    mark it so book.css wraps its lines instead of cutting the URL off.
  const first = document.querySelector(".bd-article .cell");
  if (first && first.textContent.includes("google.colab")) first.classList.add("cspnet-setup-cell");

  // 2. An output that scrolls sideways (a table wider than the column) must be reachable by
  //    keyboard and say what it is: tabindex=0, role=region and a name. book.css keeps the
  //    table's first column in view. Re-checked on resize: what scrolls depends on the width.
  const CANDIDATES = ".bd-article .cell_output .output, .bd-article .cell_output .output div";

  function nameOf(region) {
    const caption = region.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    const section = region.closest("section");
    const heading = section && section.querySelector(":scope > :is(h1, h2, h3, h4)");
    return heading ? heading.textContent.replace(/#$/, "").trim() : "output";
  }

  function markScrollRegions() {
    document.querySelectorAll(CANDIDATES).forEach((el) => {
      const overflow = getComputedStyle(el).overflowX;
      const scrolls = (overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1;
      const marked = el.classList.contains("cspnet-scroll-region");
      if (scrolls && !marked) {
        el.classList.add("cspnet-scroll-region");
        el.tabIndex = 0;
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", `${nameOf(el)} (scrolls sideways)`);
      } else if (!scrolls && marked) {
        el.classList.remove("cspnet-scroll-region");
        ["tabindex", "role", "aria-label"].forEach((a) => el.removeAttribute(a));
      }
    });
  }
  markScrollRegions();
  window.addEventListener("load", markScrollRegions); // once images and fonts have their size
  let pending;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(markScrollRegions, 150);
  });

  // 3. axe "region": the primary sidebar (book title, search, chapter list) is a plain <div>,
  //    so the book title sits outside every landmark. It is the book's navigation.
  const sidebar = document.getElementById("pst-primary-sidebar");
  if (sidebar && !sidebar.hasAttribute("role")) {
    sidebar.setAttribute("role", "navigation");
    sidebar.setAttribute("aria-label", "Book");
  }

  // 4. Search result snippets. Sphinx's search cuts a snippet from the text of [role="main"]
  //    of the result's page; in this theme that is the whole <main>, which starts with the
  //    print-only contents list, so snippets showed the contents instead of the match. Point
  //    it at the article. (`Search` is searchtools.js's global; absent on a page without it.)
  if (typeof Search !== "undefined" && Search.htmlToText) {
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (html, anchor) => {
      const doc = new DOMParser().parseFromString(html, "text/html");
      const article = doc.querySelector("article.bd-article");
      if (!article) return htmlToText(html, anchor);
      doc.querySelectorAll('[role="main"]').forEach((el) => el.removeAttribute("role"));
      article.setAttribute("role", "main");
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
  }
})();
