package vn.hues.sdk;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Every item of a paged list: pages are fetched lazily, one call per page, following the
 * server's cursor until it is empty. Each iteration starts again from the first page.
 */
public final class PagedIterable<T> implements Iterable<T> {
  private final Function<String, ? extends Object> fetch;
  private final Function<Object, List<T>> items;
  private final Function<Object, String> next;
  private final String first;

  /** For generated code: fetch(cursor) gets one page; items and next read it. */
  @SuppressWarnings("unchecked")
  public <P> PagedIterable(Function<String, P> fetch, Function<P, List<T>> items, Function<P, String> next, String first) {
    this.fetch = fetch;
    this.items = p -> items.apply((P) p);
    this.next = p -> next.apply((P) p);
    this.first = first;
  }

  @Override
  public Iterator<T> iterator() {
    return new Iterator<T>() {
      String cursor = first;
      Iterator<T> page;
      boolean last;

      @Override
      public boolean hasNext() {
        while (page == null || !page.hasNext()) {
          if (last) return false;
          Object p = fetch.apply(cursor);
          page = items.apply(p).iterator();
          cursor = next.apply(p);
          last = cursor == null || cursor.isEmpty();
        }
        return true;
      }

      @Override
      public T next() {
        if (!hasNext()) throw new NoSuchElementException();
        return page.next();
      }
    };
  }

  public Stream<T> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false);
  }
}
