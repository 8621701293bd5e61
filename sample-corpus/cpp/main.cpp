#include <iostream>
#include <memory>

#include "matrix.hpp"

struct Node {
  int value;
  std::unique_ptr<Node> next;
};

int sum(const Node* head) {
  int total = 0;
  for (const Node* n = head; n != nullptr; n = n->next.get()) total += n->value;
  return total;
}

int main() {
  auto head = std::make_unique<Node>(Node{1, nullptr});
  head->next = std::make_unique<Node>(Node{2, nullptr});
  linalg::Matrix<double> m(2, 2);
  m(0, 0) = 1.0;
  std::cout << sum(head.get()) << " " << m.rows() << std::endl;
  return 0;
}
