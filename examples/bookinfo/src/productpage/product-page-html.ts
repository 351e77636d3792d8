/** The product page's HTML: the book, its details, its reviews (with stars when reviews gives them). */
import type { BookDetails } from '../details/details-handler.ts';
import type { ProductReviews } from '../reviews/reviews-handler.ts';

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
/** The headings Istio's productpage puts over a section it could not fetch (its authorization task quotes them). */
export const DETAILS_ERROR = 'Error fetching product details!';
export const REVIEWS_ERROR = 'Error fetching product reviews!';

export const PRODUCT = {
  id: 0,
  title: 'The Comedy of Errors',
  descriptionHtml:
    '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays.',
} as const;

export interface ProductPageModel {
  readonly user: string | undefined;
  readonly details: BookDetails | undefined;
  readonly reviews: ProductReviews | undefined;
}

export function renderProductPage(model: ProductPageModel): string {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Simple Bookstore App</title>
<link rel="stylesheet" href="static/bookinfo.css"></head>
<body>
<nav>BookInfo Sample ${renderSignIn(model.user)}</nav>
<h1>${PRODUCT.title}</h1>
<p>${PRODUCT.descriptionHtml}</p>
<section id="details">
${model.details === undefined ? renderError(DETAILS_ERROR, DETAILS_UNAVAILABLE) : `<h2>Book Details</h2>\n${renderDetails(model.details)}`}
</section>
<section id="reviews">
${model.reviews === undefined ? renderError(REVIEWS_ERROR, REVIEWS_UNAVAILABLE) : `<h2>Book Reviews</h2>\n${renderReviews(model.reviews)}`}
</section>
</body>
</html>
`;
}

/** As Istio's page: a heading that says what failed, and the service's apology under it. */
function renderError(heading: string, message: string): string {
  return `<h2 class="error">${heading}</h2>\n<p class="error">${message}</p>`;
}

function renderSignIn(user: string | undefined): string {
  if (user !== undefined)
    return `<span id="user">Signed in as <b>${escapeHtml(user)}</b></span> <a href="logout">sign out</a>`;
  return `<form method="post" action="login"><input name="username" placeholder="User Name">
<input name="passwd" type="password" placeholder="Password"><button type="submit">Sign in</button></form>`;
}

function renderDetails(details: BookDetails): string {
  return `<dl>
<dt>Type:</dt><dd>${escapeHtml(details.type)}</dd>
<dt>Pages:</dt><dd>${details.pages}</dd>
<dt>Publisher:</dt><dd>${escapeHtml(details.publisher)}</dd>
<dt>Language:</dt><dd>${escapeHtml(details.language)}</dd>
<dt>ISBN-10:</dt><dd>${escapeHtml(details['ISBN-10'])}</dd>
<dt>ISBN-13:</dt><dd>${escapeHtml(details['ISBN-13'])}</dd>
</dl>`;
}

function renderReviews(reviews: ProductReviews): string {
  const items = reviews.reviews.map((review) => {
    const rating = review.rating;
    let stars = '';
    if (rating?.error !== undefined) stars = `<p class="rating-error">${escapeHtml(rating.error)}</p>`;
    else if (rating?.stars !== undefined) {
      const color = escapeHtml(rating.color ?? 'black');
      const filled = Math.max(0, Math.min(5, rating.stars));
      // data-star-color is what a reader (or a test) checks; the glyphs are for the eye.
      stars = `<p class="stars" data-star-color="${color}" style="color: ${color}">${'★'.repeat(filled)}${'☆'.repeat(5 - filled)}</p>`;
    }
    return `<blockquote><p>${escapeHtml(review.text)}</p><small>${escapeHtml(review.reviewer)}</small>${stars}</blockquote>`;
  });
  return `${items.join('\n')}\n<p class="served-by">Reviews served by: <b>${escapeHtml(reviews.podname)}</b></p>`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
