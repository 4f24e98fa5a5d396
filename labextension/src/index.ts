/**
 * Lecture slides with live explorers (issue 16).
 *
 * jupyterlab-myst-revealjs (pinned in constraints.txt) opens a notebook as a reveal.js slideshow
 * tab ("Slideshow" widget factory, command `slideshow:open`) that shares the notebook's document
 * and kernel. It renders outputs with the application-wide output renderers, whose widget
 * renderer has no widget manager, so an ipywidgets output stays at "Loading widget...". This
 * plugin, for every slideshow it opens:
 *
 * 1. hands the slideshow the widget renderer of the notebook panel that shares its document
 *    (the renderer bound to that notebook's kernel and widget manager), then rebuilds the
 *    slides, so the explorers on the slides are the live views of the notebook's widgets;
 * 2. keeps the keys pressed inside a widget output (a slider handle, a button) in the widget:
 *    reveal.js listens on the document, so stopping the event on the slides' node leaves the
 *    arrow keys to the slider; outside a widget they still move the slides;
 * 3. keeps code cells tagged `remove-cell` (the book's assertion cells) off the slides even when
 *    their slide type is not "skip" (the chapters also mark them "skip", which the slideshow
 *    honours; it has no `remove-cell` of its own for whole cells).
 *
 * jupyterlab-myst-revealjs exports no token, so the slideshow's parts are reached by the names
 * its 1.5.1 release uses (`slideBuilder`, `_rendermime`, `_codeCellEntries`, `_buildSlides`);
 * each one is checked before use and a missing one is logged, never thrown.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker } from '@jupyterlab/notebook';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Widget } from '@lumino/widgets';

const SLIDESHOW_FACTORY = 'Slideshow';
const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
/** Every ipywidgets view's node carries this class (slider, button, box, image...). */
const WIDGET_VIEW = '.jupyter-widgets';
const REMOVED_CLASS = 'nnp-Slideshow-removed';
const LOG = 'nnpuzzles-lecture-slides:';

/** What this plugin uses of a jupyterlab-myst-revealjs SlideshowPanel. */
interface ISlideshowPanel extends Widget {
  context: DocumentRegistry.Context;
  content: Widget;
  slideBuilder?: {
    _rendermime?: IRenderMimeRegistry;
    _codeCellEntries?: Array<{
      codeCell: Widget & { model: { getMetadata(key: string): unknown } };
      container: HTMLElement;
    }>;
  };
  _buildSlides?: () => Promise<void>;
}

/** Hide the containers of code cells tagged `remove-cell` after every build of the slides. */
function hideRemovedCells(panel: ISlideshowPanel): void {
  for (const entry of panel.slideBuilder?._codeCellEntries ?? []) {
    const tags = entry.codeCell.model.getMetadata('tags');
    if (Array.isArray(tags) && tags.includes('remove-cell')) {
      entry.container.classList.add(REMOVED_CLASS);
    }
  }
}

/** Keys pressed inside a widget output stay in the widget (not reveal.js, not the panel). */
function keepKeysInWidgets(panel: ISlideshowPanel): void {
  panel.content.node.addEventListener('keydown', (event: KeyboardEvent) => {
    const target = event.target;
    if (target instanceof Element && target.closest(WIDGET_VIEW) !== null) {
      event.stopPropagation();
    }
  });
}

/**
 * Give the slideshow the widget renderer of its notebook panel. True when done; false when the
 * notebook panel or its widget renderer is not there (yet).
 */
function shareWidgetRenderer(
  panel: ISlideshowPanel,
  notebook: NotebookPanel | undefined
): boolean {
  const slides = panel.slideBuilder?._rendermime;
  if (!slides) {
    console.warn(LOG, 'the slideshow has no renderer registry to extend');
    return true; // nothing to retry
  }
  const source = notebook?.content.rendermime;
  const factory = source?.getFactory(WIDGET_MIME);
  if (!source || !factory) {
    return false;
  }
  if (slides.getFactory(WIDGET_MIME) !== factory) {
    slides.addFactory(factory, source.getRank(WIDGET_MIME));
  }
  return true;
}

function wireSlideshow(
  panel: ISlideshowPanel,
  tracker: INotebookTracker
): void {
  panel.addClass('nnp-Slideshow');
  keepKeysInWidgets(panel);

  const build = panel._buildSlides;
  if (typeof build === 'function') {
    panel._buildSlides = async () => {
      await build.call(panel);
      hideRemovedCells(panel);
    };
  } else {
    console.warn(LOG, 'the slideshow has no _buildSlides; remove-cell cells are not hidden');
  }

  const findNotebook = () =>
    tracker.find(nb => nb.context === panel.context) ?? undefined;

  // Before the first build (the slideshow builds once its context is ready, a promise callback
  // that runs after this synchronous handler), when the notebook is already open.
  if (shareWidgetRenderer(panel, findNotebook())) {
    return;
  }
  // Otherwise when the notebook panel shows up; then rebuild so the outputs get the renderer.
  const retry = () => {
    // The widget manager registers its renderer on the same signal: let it go first.
    setTimeout(() => {
      if (panel.isDisposed) {
        tracker.widgetAdded.disconnect(retry);
        return;
      }
      if (shareWidgetRenderer(panel, findNotebook())) {
        tracker.widgetAdded.disconnect(retry);
        void panel._buildSlides?.();
      }
    }, 0);
  };
  tracker.widgetAdded.connect(retry);
  panel.disposed.connect(() => tracker.widgetAdded.disconnect(retry));
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nnpuzzles-lecture-slides:plugin',
  description:
    'Live explorers on the jupyterlab-myst-revealjs slideshow: the notebook widget renderer, keys kept in widgets, remove-cell cells hidden.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    const hook = (): boolean => {
      const factory = app.docRegistry.getWidgetFactory(SLIDESHOW_FACTORY);
      if (!factory) {
        return false;
      }
      factory.widgetCreated.connect((_sender, widget) =>
        wireSlideshow(widget as unknown as ISlideshowPanel, tracker)
      );
      return true;
    };
    if (hook()) {
      return;
    }
    // jupyterlab-myst-revealjs may activate after this plugin: wait for its factory.
    const onChanged = (
      _sender: DocumentRegistry,
      change: DocumentRegistry.IChangedArgs
    ) => {
      if (
        change.type === 'widgetFactory' &&
        change.name?.toLowerCase() === SLIDESHOW_FACTORY.toLowerCase() &&
        change.change === 'added' &&
        hook()
      ) {
        app.docRegistry.changed.disconnect(onChanged);
      }
    };
    app.docRegistry.changed.connect(onChanged);
  }
};

export default plugin;
