"""Image folders, synthetic shapes and their pipelines."""

import numpy as np
import pytest
import tensorflow as tf

from mlkit.data import SHAPE_CLASSES, image_folder, shapes_segmentation, shapes_segmentation_data, write_shapes_image_folder


@pytest.fixture(scope="module")
def shapes_folder(tmp_path_factory):
    return write_shapes_image_folder(tmp_path_factory.mktemp("images") / "shapes", 10, 24, seed=3)


def test_image_folder_pipeline(shapes_folder):
    data = image_folder(shapes_folder, image_size=(16, 20), validation_split=0.3, seed=1, batch_size=4)
    assert data.class_names == ["circle", "rectangle"] and data.test is None
    assert data.sizes == {"train": 14, "validation": 6}
    images, labels = next(iter(data.train))
    assert images.shape == (4, 16, 20, 3) and images.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert set(labels.numpy()) <= {0, 1}
    assert sum(int(x.shape[0]) for x, _ in data.validation) == 6
    # Same seed, same split; the training order changes from epoch to epoch.
    again = image_folder(shapes_folder, image_size=(16, 20), validation_split=0.3, seed=1, batch_size=4)
    first = np.concatenate([x.numpy() for x, _ in data.validation])
    np.testing.assert_array_equal(first, np.concatenate([x.numpy() for x, _ in again.validation]))
    epoch_one, epoch_two = ([y.numpy() for _, y in data.train] for _ in range(2))
    assert sorted(np.concatenate(epoch_one)) == sorted(np.concatenate(epoch_two))


def test_image_folder_binary_and_categorical_labels(shapes_folder):
    _, binary = next(iter(image_folder(shapes_folder, (8, 8), batch_size=4, label_mode="binary").train))
    assert binary.shape == (4, 1)
    _, one_hot = next(iter(image_folder(shapes_folder, (8, 8), batch_size=4, label_mode="categorical").train))
    assert one_hot.shape == (4, 2)


def test_image_folder_caches_to_files(shapes_folder, tmp_path):
    data = image_folder(shapes_folder, (8, 8), batch_size=4, cache=str(tmp_path / "cache"))
    for _ in data.train:
        pass
    assert any(path.name.startswith("cache.train") for path in tmp_path.iterdir())


def _folder(tmp_path, layout):
    for name, count in layout.items():
        (tmp_path / name).mkdir()
        for index in range(count):
            tf.io.write_file(str(tmp_path / name / f"{index}.png"), tf.io.encode_png(np.zeros((4, 4, 3), np.uint8)))
    return tmp_path


@pytest.mark.parametrize(
    "layout, arguments, message",
    [
        ({}, {}, "no class subfolders"),
        ({"cats": 3}, {}, "single class"),
        ({"cats": 3, "dogs": 0}, {}, "hold no images"),
        ({"cats": 2, "dogs": 2}, {"validation_split": 0.1}, "leaves a split empty"),
        ({"cats": 2, "dogs": 2, "birds": 2}, {"label_mode": "binary"}, "exactly two classes"),
        ({"cats": 2, "dogs": 2}, {"validation_split": 1.5}, "validation_split"),
        ({"cats": 2, "dogs": 2}, {"image_size": (0, 8)}, "image_size"),
        ({"cats": 2, "dogs": 2}, {"color_mode": "cmyk"}, "color_mode"),
    ],
)
def test_image_folder_errors(tmp_path, layout, arguments, message):
    with pytest.raises(ValueError, match=message):
        image_folder(_folder(tmp_path, layout), **arguments)


def test_image_folder_missing_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        image_folder(tmp_path / "nowhere")


def test_shapes_segmentation_data():
    images, masks = shapes_segmentation_data(50, image_size=32, max_shapes=2, seed=5)
    assert images.shape == (50, 32, 32, 3) and images.dtype == np.float32
    assert masks.shape == (50, 32, 32) and masks.dtype == np.uint8
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert set(np.unique(masks)) == set(range(len(SHAPE_CLASSES)))
    assert all((mask > 0).any() for mask in masks)  # every image holds at least one shape
    # Shape pixels differ from the background colour by at least 0.35 per channel (before noise).
    clean, clean_masks = shapes_segmentation_data(20, image_size=32, noise=0.0, seed=5)
    background = clean[:, :1, :1, :]  # the corner is background wherever the mask says so
    corner_is_background = clean_masks[:, 0, 0] == 0
    difference = np.abs(clean - background)[corner_is_background][clean_masks[corner_is_background] > 0]
    assert np.minimum(difference, 1 - difference).min() >= 0.35 - 1e-6
    again, _ = shapes_segmentation_data(50, image_size=32, max_shapes=2, seed=5)
    np.testing.assert_array_equal(images, again)


@pytest.mark.parametrize("arguments, argument", [({"num_examples": 0}, "num_examples"),
                                                 ({"num_examples": 2, "image_size": 8}, "image_size"),
                                                 ({"num_examples": 2, "noise": 1.0}, "noise")])
def test_shapes_segmentation_data_rejects_bad_arguments(arguments, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        shapes_segmentation_data(**arguments)


def test_shapes_segmentation_pipelines():
    data = shapes_segmentation(num_train=12, num_validation=4, num_test=4, image_size=16, batch_size=4, seed=2)
    images, masks = next(iter(data.train))
    assert images.shape == (4, 16, 16, 3) and masks.shape == (4, 16, 16) and masks.dtype == tf.int32
    assert data.class_names == list(SHAPE_CLASSES)
    train_images = np.concatenate([x.numpy() for x, _ in data.train])
    test_images = np.concatenate([x.numpy() for x, _ in data.test])
    assert not any(np.allclose(test_images[0], image) for image in train_images)  # independent splits


def test_write_shapes_image_folder_rejects_unknown_classes(tmp_path):
    with pytest.raises(ValueError, match="classes"):
        write_shapes_image_folder(tmp_path / "x", 2, classes=("cat", "dog"))
    assert not (tmp_path / "x").exists()
