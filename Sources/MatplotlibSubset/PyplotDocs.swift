import ShellRuntime

extension Pyplot {
  /// The help of each pyplot function (`help(plt.plot)`, `:help plt.plot`).
  static let docs: [String: FunctionDoc] = [
    "plot": FunctionDoc("plt.plot([x], y, [fmt], color=, linewidth=, linestyle=, marker=, markersize=, label=, alpha=)", "draw lines (and markers) through the points; fmt such as 'r-', 'o', 'b--'", "plt.plot(t, np.sin(t), 'r--', label='sin')"),
    "semilogy": FunctionDoc("plt.semilogy([x], y, [fmt], ...)", "plot with a log-scale y axis", "plt.semilogy(_last_solve['residuals'])"),
    "semilogx": FunctionDoc("plt.semilogx([x], y, [fmt], ...)", "plot with a log-scale x axis", "plt.semilogx(sizes, times, 'o-')"),
    "loglog": FunctionDoc("plt.loglog([x], y, [fmt], ...)", "plot with both axes on a log scale", "plt.loglog(n, t, 'o-')"),
    "scatter": FunctionDoc("plt.scatter(x, y, s=36, c=None, cmap='viridis', vmin=, vmax=, marker='o', alpha=, label=)", "draw points; c= a color, colors, or values mapped through cmap", "plt.scatter(x[:, 0], x[:, 1], c=labels, cmap='tab10', s=5)"),
    "imshow": FunctionDoc("plt.imshow(A, cmap='viridis', vmin=, vmax=, extent=, origin='upper', interpolation=, alpha=, aspect=)", "draw a 2-D array through a colormap (or an (M, N, 3|4) array of colors)", "plt.imshow(Z, extent=(0, 1, 0, 1), origin='lower', cmap='coolwarm')"),
    "matshow": FunctionDoc("plt.matshow(A, cmap='viridis')", "draw a 2-D array in a new figure", "plt.matshow(K)"),
    "pcolormesh": FunctionDoc("plt.pcolormesh([X, Y,] C, cmap=, vmin=, vmax=)", "draw values on a grid as colored cells", "plt.pcolormesh(X, Y, Z, cmap='RdBu')"),
    "pcolor": FunctionDoc("plt.pcolor([X, Y,] C, cmap=, vmin=, vmax=)", "the same as pcolormesh", "plt.pcolor(Z)"),
    "contourf": FunctionDoc("plt.contourf([X, Y,] Z, levels=7, cmap=)", "fill the bands between contour levels of Z", "plt.contourf(X, Y, Z, levels=10)"),
    "hist": FunctionDoc("plt.hist(x, bins=10, range=, density=False, histtype='bar', color=, alpha=, label=, log=False)", "a histogram; returns (counts, edges, patches)", "counts, edges, _ = plt.hist(np.random.randn(1000), bins=30)"),
    "bar": FunctionDoc("plt.bar(x, height, width=0.8, bottom=0, color=, alpha=, label=)", "draw bars centred on x", "plt.bar([1, 2, 3], [5, 2, 4])"),
    "text": FunctionDoc("plt.text(x, y, s, color=, fontsize=)", "write text at a data point", "plt.text(0.5, 0.5, 'centre')"),
    "title": FunctionDoc("plt.title(label)", "the current axes' title", "plt.title('Kernel ridge fit')"),
    "xlabel": FunctionDoc("plt.xlabel(label)", "the x axis label", "plt.xlabel('iteration')"),
    "ylabel": FunctionDoc("plt.ylabel(label)", "the y axis label", "plt.ylabel('RMS residual')"),
    "xlim": FunctionDoc("plt.xlim([left, right])", "get or set the x limits", "plt.xlim(0, 1)"),
    "ylim": FunctionDoc("plt.ylim([bottom, top])", "get or set the y limits", "plt.ylim(1e-9, 1)"),
    "xscale": FunctionDoc("plt.xscale('linear' | 'log')", "the x axis scale", "plt.xscale('log')"),
    "yscale": FunctionDoc("plt.yscale('linear' | 'log')", "the y axis scale", "plt.yscale('log')"),
    "xticks": FunctionDoc("plt.xticks(ticks, [labels])", "put x ticks at these positions", "plt.xticks([0, 1, 2], ['a', 'b', 'c'])"),
    "yticks": FunctionDoc("plt.yticks(ticks, [labels])", "put y ticks at these positions", "plt.yticks([0, 0.5, 1])"),
    "legend": FunctionDoc("plt.legend([labels], loc='best')", "a legend of the labelled lines, points and bars", "plt.legend(loc='lower right')"),
    "grid": FunctionDoc("plt.grid([visible])", "grid lines at the ticks (no argument toggles)", "plt.grid(True)"),
    "axis": FunctionDoc("plt.axis('off' | 'on' | 'equal' | 'scaled' | 'tight' | 'auto' | [x0, x1, y0, y1])", "axis visibility, aspect or limits; returns the limits", "plt.axis([0, 1, 0, 1])"),
    "cla": FunctionDoc("plt.cla()", "clear the current axes", "plt.cla()"),
    "figure": FunctionDoc("plt.figure(num=None, figsize=(6.4, 4.8), dpi=100)", "a new figure (or figure num), made current", "plt.figure(figsize=(8, 8))"),
    "subplot": FunctionDoc("plt.subplot(rows, cols, index) or plt.subplot(211)", "the axes at a cell of a grid (index from 1), made current", "plt.subplot(2, 3, 1)"),
    "subplots": FunctionDoc("plt.subplots(nrows=1, ncols=1, figsize=, squeeze=True)", "a new figure with a grid of axes: returns (fig, axes)", "fig, axes = plt.subplots(1, 2, figsize=(8, 3))"),
    "gcf": FunctionDoc("plt.gcf()", "the current figure", "fig = plt.gcf()"),
    "gca": FunctionDoc("plt.gca()", "the current axes", "ax = plt.gca()"),
    "show": FunctionDoc("plt.show()", "draw the open figures in the terminal (inline image or braille), then close them", "plt.show()"),
    "savefig": FunctionDoc("plt.savefig(fname, dpi=None, format=None)", "write the current figure as .svg, .png or .pdf (atomically)", "plt.savefig('fit.png')"),
    "close": FunctionDoc("plt.close(fig=None)", "close the current figure, figure n, a figure, or 'all'", "plt.close('all')"),
    "clf": FunctionDoc("plt.clf()", "clear the current figure", "plt.clf()"),
    "colorbar": FunctionDoc("plt.colorbar(mappable=None, label=None)", "a colorbar for an image or a scatter's values", "plt.colorbar(im, label='density')"),
    "tight_layout": FunctionDoc("plt.tight_layout()", "accepted: ks always fits the layout to the labels", "plt.tight_layout()"),
    "suptitle": FunctionDoc("plt.suptitle(t)", "a title over the whole figure", "plt.suptitle('k-NN classifiers')"),
    "get_cmap": FunctionDoc("plt.get_cmap(name)", "the colormap called name (a colormap is callable on values in [0, 1])", "cmap = plt.get_cmap('viridis'); cmap(0.5)"),
    "use": FunctionDoc("matplotlib.use(backend)", "accepted: ks has one backend (files and the terminal)", "matplotlib.use('Agg')"),
  ]

  /// The help of a function outside the subset.
  static func ignoredDoc(_ qualified: String) -> FunctionDoc {
    FunctionDoc("\(qualified)(...)", "not part of ks's matplotlib subset: accepted and ignored, with one warning", "\(qualified)()")
  }
}
