// Loaded only on pages that embed widgets, after require.js and before the ipywidgets HTML
// manager (nb_ipywidgets_js in _config.yml). Two fixes so widgets render offline and cleanly:
(function () {
  "use strict";
  // 1. The manager loads its Font Awesome files from beside the module that asks for them,
  //    which require.js would place under the page's own folder. Point it at our copy.
  var here = document.currentScript.src;
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": new URL("vendor/html-manager", here).href },
  });

  // 2. ipywidgets 8 typesets widget labels with MathJax 2's MathJax.Hub.Queue; the book loads
  //    MathJax 3 (deferred, so it is there by DOMContentLoaded). Bridge that one call.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) return;
    mj.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset") {
            mj.startup.promise.then(function () {
              return mj.typesetPromise(job[2] ? [job[2]] : undefined);
            });
          }
        });
      },
    };
  });
})();
